/**
 * Seeded pseudo-random numbers for reproducible degradations: the same seed gives the same sequence on every
 * platform (only 32-bit integer ops and IEEE doubles are used).
 *
 * Generator: xoshiro128** 1.0 (Blackman & Vigna), seeded through SplitMix64 as its authors recommend.
 * Distributions follow numpy's legacy/Generator algorithms where that matters for correctness
 * (53-bit doubles, Poisson by multiplication below lambda 10 and by PTRS above).
 */
export interface Rng {
  /** Next raw output, an unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number;
  /** lo + (hi - lo) * random(), as numpy.random.uniform: in [lo, hi), or (hi, lo] when hi < lo. */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in [lo, hi], both ends included (like Python's random.randint). */
  int(lo: number, hi: number): number;
  normal(mean?: number, std?: number): number;
  /** Poisson-distributed integer with mean lambda (>= 0). */
  poisson(lambda: number): number;
  /** One item, uniformly or in proportion to non-negative weights (like Python's random.choices(...)[0]). */
  choice<T>(items: readonly T[], weights?: readonly number[]): T;
  /** true with probability p. */
  bool(p: number): boolean;
}

export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new Error(`rng seed must be a safe integer, got ${seed}`);
  return new Xoshiro128(seed);
}

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 step (Steele, Lea & Flood); returns [next state, output]. */
function splitMix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

class Xoshiro128 implements Rng {
  // An Int32Array keeps the state unboxed: 32-bit values do not fit V8's small integers.
  private readonly s = new Int32Array(4);
  private spareNormal = 0;
  private hasSpareNormal = false;

  constructor(seed: number) {
    let [state, a] = splitMix64(BigInt.asUintN(64, BigInt(seed)));
    let b: bigint;
    [state, b] = splitMix64(state);
    this.s[0] = Number(a & 0xffffffffn);
    this.s[1] = Number(a >> 32n);
    this.s[2] = Number(b & 0xffffffffn);
    this.s[3] = Number(b >> 32n);
  }

  nextUint32(): number {
    const s = this.s;
    const s1 = s[1];
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9);
    const s2 = s[2] ^ s[0];
    const s3 = s[3] ^ s1;
    s[1] = s1 ^ s2;
    s[0] ^= s3;
    s[2] = s2 ^ (s1 << 9);
    s[3] = (s3 << 11) | (s3 >>> 21);
    return result >>> 0;
  }

  random(): number {
    // numpy's next_double: 27 + 26 high bits of two outputs.
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) {
      throw new Error(`int: need integers lo <= hi, got [${lo}, ${hi}]`);
    }
    // The bias of flooring a 53-bit double is below 2^-53 * range: negligible for any practical range.
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  normal(mean = 0, std = 1): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return mean + std * this.spareNormal;
    }
    // Marsaglia polar method, keeping the second deviate (as numpy's legacy gauss does).
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.random() - 1;
      v = 2 * this.random() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = u * f;
    this.hasSpareNormal = true;
    return mean + std * v * f;
  }

  poisson(lambda: number): number {
    if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new Error(`poisson: lambda must be finite and >= 0, got ${lambda}`);
    if (lambda >= 10) return this.poissonPtrs(lambda);
    if (lambda === 0) return 0;
    // numpy random_poisson_mult: count uniforms until their product drops below e^-lambda (exact).
    const limit = Math.exp(-lambda);
    let k = 0;
    let product = this.random();
    while (product > limit) {
      k++;
      product *= this.random();
    }
    return k;
  }

  /** Hörmann's transformed rejection with squeeze (PTRS), as numpy random_poisson_ptrs. */
  private poissonPtrs(lambda: number): number {
    const sqrtLambda = Math.sqrt(lambda);
    const logLambda = Math.log(lambda);
    const b = 0.931 + 2.53 * sqrtLambda;
    const a = -0.059 + 0.02483 * b;
    const logInvAlpha = Math.log(1.1239 + 1.1328 / (b - 3.4));
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.random() - 0.5;
      const v = this.random();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + logInvAlpha - Math.log(a / (us * us) + b) <= -lambda + k * logLambda - logGamma(k + 1)) return k;
    }
  }

  choice<T>(items: readonly T[], weights?: readonly number[]): T {
    if (items.length === 0) throw new Error("choice: no items");
    if (!weights) return items[Math.floor(this.random() * items.length)];
    if (weights.length !== items.length) {
      throw new Error(`choice: ${items.length} items but ${weights.length} weights`);
    }
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`choice: weights must be finite and >= 0, got ${w}`);
      total += w;
    }
    if (total <= 0) throw new Error("choice: weights sum to 0");
    // random.choices: first cumulative weight above u * total.
    const target = this.random() * total;
    let cumulative = 0;
    for (let i = 0; i < items.length; i++) {
      cumulative += weights[i];
      if (target < cumulative) return items[i];
    }
    return items[items.length - 1]; // only reachable through rounding in the cumulative sum
  }

  bool(p: number): boolean {
    return this.random() < p;
  }
}

const LOG_GAMMA_SERIES = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4,
  -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059,
];

/** log Gamma(x) for x >= 1 by the Stirling series, shifted up to 7 (numpy random_loggam). */
export function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0;
  const n = x < 7 ? Math.floor(7 - x) : 0;
  let x0 = x + n;
  const x2 = 1 / (x0 * x0);
  let series = LOG_GAMMA_SERIES[9];
  for (let k = 8; k >= 0; k--) series = series * x2 + LOG_GAMMA_SERIES[k];
  let result = series / x0 + 0.9189385332046727 + (x0 - 0.5) * Math.log(x0) - x0; // 0.9189... = 0.5 * log(2 pi)
  for (let k = 1; k <= n; k++) {
    result -= Math.log(x0 - 1);
    x0 -= 1;
  }
  return result;
}
