// A short message that goes away by itself.

/**
 * @param {HTMLElement} el an element with role="alert"
 * @param {number} [ms] how long a message stays
 * @returns {(message: string) => void}
 */
export function notifier(el, ms = 6000) {
  /** @type {number | undefined} */
  let timer;
  return (message) => {
    el.textContent = message;
    el.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(() => { el.hidden = true; }, ms);
  };
}
