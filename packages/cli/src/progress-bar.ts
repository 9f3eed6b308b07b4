import type { OutputStream } from './format-output.js';

/**
 * A one-line progress bar on a terminal (nothing when the stream is not one), redrawn at most
 * every 100 ms: `[#####-----]  50%  <text>`, or the text alone when the fraction is unknown.
 */
export class ProgressBar {
  readonly #stream: OutputStream;
  #shown = false;
  #lastDraw = 0;

  constructor(stream: OutputStream) {
    this.#stream = stream;
  }

  /** Whether the bar is drawn (the stream is a terminal). */
  get enabled(): boolean {
    return this.#stream.isTTY === true;
  }

  /** Draws `text` after the bar of `fraction` (0 to 1, `undefined` for none). */
  draw(fraction: number | undefined, text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    let line = text;
    if (fraction !== undefined) {
      const clamped = Math.min(1, Math.max(0, fraction));
      const width = 24;
      const filled = Math.round(clamped * width);
      line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)}%  ${text}`;
    }
    this.#stream.write(`\r\u001b[K${line}`);
    this.#shown = true;
  }

  /** Removes the bar, e.g. before writing a line of its own. */
  clear(): void {
    if (this.#shown) this.#stream.write('\r\u001b[K');
    this.#shown = false;
  }
}
