// A progress line per epoch on a terminal: a bar, images per second and the time left.

/** Redraws at most every 200 ms, and only on a terminal (logs get the epoch summaries alone). */
export class Progress {
  private last = 0;
  private readonly start = performance.now();

  constructor(private readonly label: string, private readonly total: number, private readonly unit = "img", private readonly stream = process.stderr) {}

  /** Shows `done` of the total, having processed `images` units (images, by default). */
  update(done: number, images: number): void {
    if (!this.stream.isTTY) return;
    const now = performance.now();
    if (now - this.last < 200 && done < this.total) return;
    this.last = now;
    const seconds = (now - this.start) / 1000;
    const rate = images / Math.max(seconds, 1e-9);
    const eta = done > 0 ? (seconds / done) * (this.total - done) : 0;
    const width = 24;
    const filled = Math.round((width * done) / this.total);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    this.stream.write(`\r${this.label} ${bar} ${done}/${this.total}  ${rate.toFixed(1)} ${this.unit}/s  ETA ${formatTime(eta)}  `);
  }

  /** Clears the line. */
  done(): void {
    if (this.stream.isTTY) this.stream.write("\r\x1b[2K");
  }
}

/** m:ss or h:mm:ss. */
export function formatTime(seconds: number): string {
  const s = Math.round(seconds);
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}
