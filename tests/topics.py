"""Short notes on a few clear topics, for tests that need themes to form."""

BIKES = [
    "more bike lanes on main street",
    "protected bike lanes near schools",
    "bike lanes connecting the parks",
    "safer bike lanes downtown please",
    "paint bike lanes on every avenue",
    "bike lanes and bike parking",
]
MEALS = [
    "free school meals for every child",
    "healthier school meals with local food",
    "school meals should be organic",
    "hot school meals in winter",
    "school meals cooked on site",
    "longer lunch for school meals",
]
TREES = [
    "plant street trees for shade",
    "street trees on every block",
    "more street trees and flowers",
    "water the street trees in summer",
    "street trees instead of parking",
    "native street trees please",
]
