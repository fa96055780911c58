// Progress of long work in the page (issue 13, item 9): a status line with a Cancel button, and
// a loop that does the work in slices of at most a few milliseconds, yielding to the browser
// between them, so the page answers (and the user can cancel) while a text version of 90,000
// steps or a PNG in parts is made. Loaded on demand.

/** A status line under the banner: update(text), cancelled, done(). Escape cancels too. */
export function progress(label) {
  const bar = document.createElement('div');
  bar.className = 'banner problem';
  bar.id = 'progress';
  bar.setAttribute('role', 'status');
  const text = document.createElement('span');
  text.id = 'progress-text';
  text.textContent = label;
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.id = 'progress-cancel';
  cancel.textContent = 'Cancel';
  const p = {
    bar,
    cancelled: false,
    /** Called once when the user cancels (the button or Escape). */
    onCancel: null,
    update(t) {
      text.textContent = t;
    },
    done() {
      bar.remove();
      removeEventListener('keydown', esc, true);
    },
  };
  const stop = () => {
    if (p.cancelled) return;
    p.cancelled = true;
    p.onCancel?.();
  };
  const esc = (e) => {
    if (e.key === 'Escape') stop();
  };
  cancel.addEventListener('click', stop);
  addEventListener('keydown', esc, true);
  bar.append(text, cancel);
  document.getElementById('progress')?.remove();
  (document.getElementById('banner') || document.body.firstChild).after(bar);
  return p;
}

const nextFrame = () => new Promise((r) => (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible' ? requestAnimationFrame(() => r()) : setTimeout(r, 0)));

/**
 * Run `work(i)` for i in [0, n) in slices of about `budget` ms, a frame apart; `onSlice(done)`
 * after each. Resolves true when finished, false when `p.cancelled` became true.
 */
export async function sliced(n, work, { p, budget = 8, onSlice } = {}) {
  let i = 0;
  while (i < n) {
    const t0 = performance.now();
    do work(i++);
    while (i < n && performance.now() - t0 < budget);
    onSlice?.(i);
    if (i < n) await nextFrame();
    if (p?.cancelled) return false;
  }
  return true;
}
