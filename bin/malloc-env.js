// The glibc malloc settings for the processes that run models (the CLI through bin/toxscope.js, the desktop app
// through scripts/start.js): transparent huge pages, and for one-job processes, freed memory kept for reuse.
import { readFileSync } from 'node:fs';

/** The glibc tunable (glibc 2.35 and later; others ignore it) that has malloc ask for transparent huge pages. */
export const hugePagesTunable = 'glibc.malloc.hugetlb=1';

/**
 * The glibc tunables that keep freed memory in the process for its next allocations: large buffers come from malloc's
 * heap instead of a mapping of their own (which free hands straight back to the kernel), and up to 1 GiB free at the
 * top of the heap is kept (glibc's default is 128 KiB).
 */
export const keepFreedMemoryTunables = ['glibc.malloc.mmap_max=0', `glibc.malloc.trim_threshold=${2 ** 30}`];

/** The tunables a user may have set that decide the same as keepFreedMemoryTunables; any of them is left alone. */
const freedMemoryTunableNames = ['glibc.malloc.mmap_max', 'glibc.malloc.mmap_threshold', 'glibc.malloc.trim_threshold'];

/** The kernel's transparent huge page mode ('always', 'madvise', 'never'), or null where it has none (not Linux). */
export function kernelHugePagesMode(kernelSetting = '/sys/kernel/mm/transparent_hugepage/enabled') {
  try {
    return /\[(\w+)\]/.exec(readFileSync(kernelSetting, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Whether GLIBC_TUNABLES (a process's own, by default) keeps freed memory as keepFreedMemoryTunables do. */
export function keepsFreedMemory(tunables = process.env.GLIBC_TUNABLES ?? '') {
  return keepFreedMemoryTunables.every((tunable) => tunables.split(':').includes(tunable));
}

/**
 * `env` with glibc malloc tunables added to GLIBC_TUNABLES (which glibc reads only when a process starts), after any
 * the user set; null where nothing is added (not Linux, or nothing missing). Two settings, each left out where the
 * user set it or a tunable that decides the same:
 * - Huge pages (`glibc.malloc.hugetlb=1`), where the kernel gives them only to memory that asks ("madvise", Debian's
 *   default) and TOXSCOPE_HUGE_PAGES is not `off`: every large buffer onnxruntime and V8 allocate is otherwise faulted
 *   in 4 KiB at a time, and on a virtual machine that costs as much as the arithmetic around it. Measured on a 2-core
 *   AMD EPYC VM (docs/benchmarks.md): a Llama-3.2-1B-shaped 8 × 128 forward 7.0–7.7 s instead of 9.3–11.3 s,
 *   `toxscope activations` on gpt2-medium 2.2–2.5 s instead of 2.7–2.9 s, with the same peak memory.
 * - Freed memory kept (keepFreedMemoryTunables), for a process that runs one job and exits (`oneJob`: every CLI
 *   command but `serve`), unless TOXSCOPE_KEEP_FREED_MEMORY is `off`. onnxruntime-node copies every output of a run
 *   into a new buffer, and a run's outputs are freed before the next run's are made; handed back to the kernel, that
 *   memory is new again each run, and a virtual machine whose balloon takes freed memory back (free page reporting)
 *   pays a fault in the host for every page of it. Measured there: a Llama-3.2-1B-shaped 8 × 128 forward with all 16
 *   mlp.hook_post (512 MiB of outputs a run) 6.6–6.8 s instead of 7.1–7.2 s, and 5.4–5.9 s instead of 7.4–8.9 s when
 *   run whole, with the same peak memory. A long-running process (the app, `serve`) does without: it would hold
 *   memory a finished job freed.
 */
export function mallocEnv(
  env = process.env,
  { oneJob = false, kernelSetting = '/sys/kernel/mm/transparent_hugepage/enabled' } = {},
) {
  if (process.platform !== 'linux') return null;
  const present = env.GLIBC_TUNABLES ?? '';
  const isSet = (name) => present.split(':').some((tunable) => tunable.startsWith(`${name}=`));
  const added = [];
  if (
    env.TOXSCOPE_HUGE_PAGES !== 'off' &&
    !isSet('glibc.malloc.hugetlb') &&
    kernelHugePagesMode(kernelSetting) === 'madvise'
  )
    added.push(hugePagesTunable);
  if (oneJob && env.TOXSCOPE_KEEP_FREED_MEMORY !== 'off' && !freedMemoryTunableNames.some(isSet))
    added.push(...keepFreedMemoryTunables);
  if (!added.length) return null;
  return { ...env, GLIBC_TUNABLES: [present, ...added].filter(Boolean).join(':') };
}
