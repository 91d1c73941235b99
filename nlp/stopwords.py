"""Words that never name a theme, in the languages participants write in.

Lists are lower-case and compared with lower-cased tokens from `nlp.text.words`, which
splits on apostrophes: contraction fragments ("don", "ll", "qu", "aujourd") are listed for
that reason. Besides grammatical words, each list carries the filler of deliberation
("should", "need", "think", "faut", "sollte"): it is in nearly every note, so as a label it
would say nothing about any theme.
"""

from __future__ import annotations


def _split(block: str) -> frozenset[str]:
    return frozenset(block.split())


ENGLISH = _split(
    """
    a about above after again against ago all almost along already also although always am
    among an and another any anybody anyone anything anyway anywhere are aren around as at
    away back be became because become been before being below besides best better between
    both but by can cannot could couldn did didn do does doesn doing don done down during
    each either else enough etc even ever every everybody everyone everything everywhere
    few first for from further get gets getting give go goes going gone got had hadn has
    hasn have haven having he her here hers herself him himself his how however i ie if in
    instead into is isn it its itself just keep kind last least less let like likely ll lot
    lots made make makes making many may maybe me might mine more most much must mustn my
    myself need needed needs neither never new next no nobody none nor not nothing now of
    off often oh ok okay on once one ones only onto or other others otherwise ought our ours
    ourselves out over own per perhaps please put quite rather re really said same say says
    see seem seems shall shan she should shouldn since so some somebody someone something
    sometimes somewhat soon still such sure take than that the their theirs them themselves
    then there therefore these they thing things think this those though through thus to
    together too toward towards under until up upon us use used using ve very via want wants
    was wasn way we well were weren what whatever when where whether which while who whoever
    whole whom whose why will with within without won would wouldn yeah yes yet you your
    yours yourself yourselves
    """
)

FRENCH = _split(
    """
    afin ai aie aient ainsi alors as au aucun aucune aujourd auprès aussi autre autres aux
    avaient avais avait avant avec avez aviez avions avoir avons ayant bah beaucoup bien bon
    ça car ce ceci cela celle celles celui cependant certain certaines certains ces cet cette
    ceux chaque chez ci comme comment contre dans de depuis des dessous dessus devrait
    devraient doit doivent donc dont du déjà elle elles en encore entre es est et étaient
    était étant été êtes être eu eux faire fait faut fois font ici il ils je jusqu la là le
    les leur leurs lors lorsque lui ma mais me même mêmes merci mes moi moins mon ne ni non
    nos notre nous on ont ou où oui par parce pas peu peut peuvent peux plupart plus plusieurs
    pour pourquoi pourrait pu puis qu quand que quel quelle quelles quels qui quoi sa sans
    se selon ses si sien sienne soi soit sommes son sont sous suis sur ta tant te tes toi ton
    tous tout toute toutes très tu un une unes uns vers veut voici voilà vont vos votre vous
    vraiment
    """
)

GERMAN = _split(
    """
    ab aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
    anderes auch auf aus bei beim bin bis bist bitte da dabei dadurch dafür dagegen daher
    damit dann dar darauf darf darum das dass dein deine dem den denen denn der deren des
    deshalb dessen die dies diese diesem diesen dieser dieses doch dort du durch ein eine
    einem einen einer eines einige einigen einiger einmal er es etwa etwas euch euer eure
    für gab gegen gibt hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr
    ihre ihrem ihren ihrer ihres im immer in indem ins ist ja jede jedem jeden jeder jedes
    jedoch jene jetzt kann kein keine keinem keinen keiner können könnte man manche mehr mein
    meine mich mir mit muss müssen musste nach nicht nichts noch nun nur ob oder ohne schon
    sehr sein seine seinem seinen seiner selbst sich sie sind so sogar solche soll sollen
    sollte sollten sondern sowie über um und uns unser unsere unter viel viele vom von vor
    wann war waren warum was weil weiter welche welchem welchen welcher welches wenn wer
    werde werden wie wieder will wir wird wo wollen wurde wurden zu zum zur zwar zwischen
    """
)

STOP_WORDS: frozenset[str] = ENGLISH | FRENCH | GERMAN
