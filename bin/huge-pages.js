// The environment that has glibc's malloc use transparent huge pages, for the processes that run models (the CLI
// through bin/toxscope.js, the desktop app through scripts/start.js).
import { readFileSync } from 'node:fs';

/** The glibc tunable (glibc 2.35 and later; others ignore it) that has malloc ask for transparent huge pages. */
export const hugePagesTunable = 'glibc.malloc.hugetlb=1';

/** The kernel's transparent huge page mode ('always', 'madvise', 'never'), or null where it has none (not Linux). */
export function kernelHugePagesMode(kernelSetting = '/sys/kernel/mm/transparent_hugepage/enabled') {
  try {
    return /\[(\w+)\]/.exec(readFileSync(kernelSetting, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * `env` with `hugePages` added to GLIBC_TUNABLES, which glibc reads only when a process starts, or null where it
 * would change nothing: not Linux, the tunable set already, TOXSCOPE_HUGE_PAGES=off, or a kernel that gives huge
 * pages to all memory ("always") or to none. Where it gives them only to memory that asks ("madvise", Debian's
 * default), every large buffer onnxruntime and V8 allocate is otherwise faulted in 4 KiB at a time, and on a virtual
 * machine that costs as much as the arithmetic around it. Measured on a 2-core AMD EPYC VM (docs/benchmarks.md): a
 * Llama-3.2-1B-shaped 8 × 128 forward 7.0–7.7 s instead of 9.3–11.3 s, `toxscope activations` on gpt2-medium
 * 2.2–2.5 s instead of 2.7–2.9 s, with the same peak memory.
 */
export function hugePagesEnv(env = process.env, kernelSetting = '/sys/kernel/mm/transparent_hugepage/enabled') {
  if (process.platform !== 'linux' || env.TOXSCOPE_HUGE_PAGES === 'off') return null;
  if ((env.GLIBC_TUNABLES ?? '').includes('glibc.malloc.hugetlb')) return null;
  if (kernelHugePagesMode(kernelSetting) !== 'madvise') return null;
  return { ...env, GLIBC_TUNABLES: [env.GLIBC_TUNABLES, hugePagesTunable].filter(Boolean).join(':') };
}
