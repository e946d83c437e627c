// Dense linear algebra for the tests, independent of the package: random orthogonal matrices,
// symmetric matrices of a chosen spectrum, and the cyclic Jacobi eigenvalue method.

/** A deterministic pseudo-random number in [−1, 1) stream. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

/** A random orthogonal n×n matrix (Gram–Schmidt on random columns), row-major. */
export function orthogonal(n: number, seed: number): Float64Array {
  const next = uniform(seed);
  const columns: Float64Array[] = [];
  while (columns.length < n) {
    const c = Float64Array.from({ length: n }, next);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of columns) {
        const d = c.reduce((s, x, i) => s + x * q[i], 0);
        for (let i = 0; i < n; i++) c[i] -= d * q[i];
      }
    }
    const length = Math.hypot(...c);
    if (length > 1e-3) columns.push(c.map((x) => x / length));
  }
  const q = new Float64Array(n * n);
  columns.forEach((c, j) => c.forEach((x, i) => (q[i * n + j] = x)));
  return q;
}

/** Q·diag(spectrum)·Qᵀ for a random orthogonal Q, row-major. */
export function withSpectrum(spectrum: readonly number[], seed: number): Float64Array {
  const n = spectrum.length;
  const q = orthogonal(n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * spectrum[k] * q[j * n + k];
      a[i * n + j] = s;
    }
  }
  return a;
}

/** The eigenvalues of a symmetric matrix (row-major), largest first, by cyclic Jacobi rotations. */
export function jacobiEigenvalues(matrix: Float64Array, n: number): number[] {
  const a = Float64Array.from(matrix);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i * n + j] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // the rotation that zeroes a[p][q]
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const [akp, akq] = [a[k * n + p], a[k * n + q]];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const [apk, aqk] = [a[p * n + k], a[q * n + k]];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => a[i * n + i]).sort((x, y) => y - x);
}
