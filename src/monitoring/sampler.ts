/** Which calls go into the prediction log: every Nth (a counter, exact) or a fraction at random. */

export type Sampler = () => boolean;

export function createSampler(sampling: { readonly every: number } | { readonly rate: number }, random: () => number = Math.random): Sampler {
  if ('every' in sampling) {
    const every = Math.max(1, Math.floor(sampling.every));
    if (every === 1) return () => true;
    // The first call is sampled, then every Nth after it: N calls always hold exactly one sampled call.
    let count = 0;
    return () => {
      const sampled = count === 0;
      count = count + 1 === every ? 0 : count + 1;
      return sampled;
    };
  }
  const rate = sampling.rate;
  if (rate >= 1) return () => true;
  if (rate <= 0) return () => false;
  return () => random() < rate;
}
