// What every benchmark against PyTorch needs to make the baseline fair (issue 19): Debian's python3 with torch, the
// OpenBLAS core this CPU supports best, the same memory pages on both sides, the CPU flags and BLAS settings for the
// settings line, and the shared machine's free memory and load. The Python side of the BLAS report is torch_blas.py.

import { keepsFreedMemory, mallocEnv } from '../../bin/malloc-env.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';

export const python = '/usr/bin/python3';

/** One side's measurements, as the benchmark processes print them (one JSON object, the last line). */
export type Measurement = Record<string, number | string>;

export function hasTorch(): boolean {
  return spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

export const torchMissing =
  'install Debian python3-torch and libopenblas0-openmp (apt-get install -y python3-torch libopenblas0-openmp)';

/** The CPU's flags that decide which GEMM kernels the two libraries can pick. */
export function cpuFlags(): string[] {
  const line = readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((text) => text.startsWith('flags'));
  const flags = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
  return ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'amx_tile'].filter((flag) =>
    flags.has(flag),
  );
}

/**
 * OpenBLAS 0.3.21 (Debian's) does not recognise recent AMD CPUs and falls back to its Haswell kernels; with AVX-512
 * its SkylakeX kernels are the fair choice (measured here: 2048² sgemm 128 → 180 GFLOP/s). This overrides an
 * OPENBLAS_CORETYPE the environment sets (ours sets Haswell); blasSettings names both.
 */
export function blasCoreType(flags: string[]): string {
  return flags.includes('avx512f') ? 'SkylakeX' : 'Haswell';
}

/** The malloc settings a `toxscope` command's process gives itself (bin/malloc-env.js), for both sides' processes. */
const commandEnv = () => mallocEnv(process.env, { oneJob: true }) ?? process.env;

/**
 * The environment PyTorch's processes run with: the chosen OpenBLAS core, and glibc's malloc as a `toxscope` command
 * runs (bin/malloc-env.js). Measured on a 2-core AMD EPYC VM, whose kernel gives huge pages on request only:
 * PyTorch's gpt2-medium compare (batch 32) took 18.8–20.5 s with them against 32.6–38.0 s without, since its KV cache
 * is new memory at every step.
 */
export function torchEnv(coreType: string): NodeJS.ProcessEnv {
  return { ...commandEnv(), OPENBLAS_CORETYPE: coreType };
}

/** The environment ToxScope's bench processes run with: what a `toxscope` command gives itself, and `extra`. */
export function toxscopeEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...commandEnv(), ...extra };
}

/** The settings line's words on malloc, the same for both sides, and what the VM does with memory. */
export function pageSettings(): string {
  const tunables = commandEnv().GLIBC_TUNABLES ?? '';
  const effects = [
    ...(tunables.includes('glibc.malloc.hugetlb=1') ? ['malloc on transparent huge pages'] : []),
    ...(keepsFreedMemory(tunables) ? ['freed memory kept for reuse, up to 1 GiB spare'] : []),
  ];
  const pages = tunables
    ? `both sides with GLIBC_TUNABLES=${tunables}${effects.length ? ` (${effects.join(', ')})` : ''}`
    : "glibc's default malloc settings on both sides";
  return [pages, ...vmMemoryReclaim()].join('; ');
}

/**
 * What the machine does with memory behind both sides' backs, in words for the settings line (2026-12-08, the
 * project's EPYC VM, Firecracker, had both). A virtio balloon with free page reporting hands freed guest memory back
 * to the host, so memory a process touches for the first time costs a fault in the host as well (a session's
 * repacked weights, PyTorch's parameters). A DAMON scheme that pages out idle file pages nobody maps drops a
 * checkpoint's page cache once it has not been read for a while, and the next run reads it from disk.
 */
function vmMemoryReclaim(): string[] {
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').trim() : '');
  const list = (path: string) => (existsSync(path) ? readdirSync(path) : []);
  const found: string[] = [];
  const virtio = '/sys/bus/virtio/devices';
  const balloonReports = list(virtio).some(
    // virtio device 5 is the balloon; its feature bit 5 is VIRTIO_BALLOON_F_REPORTING (one character per bit)
    (device) => read(join(virtio, device, 'device')) === '0x0005' && read(join(virtio, device, 'features'))[5] === '1',
  );
  if (balloonReports)
    found.push(
      'a virtio balloon with free page reporting (freed memory goes back to the host; each measured process starts once that has settled)',
    );
  const kdamonds = '/sys/kernel/mm/damon/admin/kdamonds';
  for (const kdamond of list(kdamonds).filter((name) => /^\d+$/.test(name))) {
    if (read(join(kdamonds, kdamond, 'state')) !== 'on') continue;
    const contexts = join(kdamonds, kdamond, 'contexts');
    for (const context of list(contexts).filter((name) => /^\d+$/.test(name))) {
      const aggregationUs = Number(read(join(contexts, context, 'monitoring_attrs/intervals/aggr_us')));
      const schemes = join(contexts, context, 'schemes');
      for (const scheme of list(schemes).filter((name) => /^\d+$/.test(name))) {
        const at = (path: string) => read(join(schemes, scheme, path));
        if (at('action') !== 'pageout') continue;
        const idleSeconds = (Number(at('access_pattern/age/min')) * aggregationUs) / 1e6;
        const mibPerSecond = Number(at('quotas/bytes')) / 2 ** 20 / (Number(at('quotas/reset_interval_ms')) / 1000);
        const filters = list(join(schemes, scheme, 'ops_filters'))
          .filter((name) => /^\d+$/.test(name))
          .map((filter) => `${at(`ops_filters/${filter}/type`)}:${at(`ops_filters/${filter}/allow`)}`);
        const pages = `${filters.includes('anon:N') ? 'file pages' : 'pages'}${filters.includes('unmapped:Y') ? ' no process maps' : ''}`;
        found.push(
          `the kernel's DAMON pages out ${pages} once idle for ${idleSeconds.toFixed(0)} s (up to ${mibPerSecond.toFixed(0)} MiB/s)`,
        );
      }
    }
  }
  return found;
}

/**
 * The settings line's words on PyTorch's BLAS, from what torch_blas.py's blas_info reported in a baseline process
 * (blasConfig, blasCore, blasThreads) and the core this bench asked for.
 */
export function blasSettings(torch: Measurement, coreType: string): string {
  const inheritedCore = process.env.OPENBLAS_CORETYPE;
  const otherBlasSettings = Object.entries(process.env)
    .filter(([name]) => name.startsWith('OPENBLAS_') && name !== 'OPENBLAS_CORETYPE')
    .map(([name, value]) => `${name}=${value ?? ''}`);
  return `PyTorch's BLAS: ${String(torch.blasConfig)}, core ${String(torch.blasCore)} (OPENBLAS_CORETYPE=${coreType}${inheritedCore && inheritedCore !== coreType ? `, overriding the environment's ${inheritedCore}` : ''}), ${String(torch.blasThreads)} threads${otherBlasSettings.length ? `, ${otherBlasSettings.join(' ')} as the environment sets it` : ''}`;
}

/**
 * The core OpenBLAS reported in a baseline process, checked against the one asked for: a mismatch means PyTorch ran
 * on other kernels than intended (an OpenBLAS without that core, or a fallback), so its numbers measure the setup.
 * No OpenBLAS at all stops the bench.
 */
export function warnOnBlasFallback(torch: Measurement, coreType: string, log: (line: string) => void): void {
  const reported = String(torch.blasCore ?? 'unknown');
  // Without OpenBLAS, Debian's PyTorch runs on the reference BLAS (20× slower here): a table against it would be false.
  if (reported.startsWith('unknown'))
    throw new Error(
      "PyTorch's BLAS is not OpenBLAS (Debian's reference libblas3 was chosen): its numbers would measure that, not PyTorch. Install it with `apt-get install libopenblas0-openmp` and run the bench again.",
    );
  if (reported.toLowerCase() !== coreType.toLowerCase())
    log(
      `WARNING: PyTorch's OpenBLAS runs core ${reported}, not ${coreType} as asked: its numbers may measure a fallback kernel set, not PyTorch at its best.`,
    );
}

export function availableBytes(): number {
  const match = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return match ? Number(match[1]) * 1024 : os.freemem();
}

const reportedKib = '/sys/module/page_reporting/parameters/reported_kib';

/**
 * Where the kernel hands freed memory back to the host (free page reporting, see vmMemoryReclaim), waits until it has
 * finished with what the previous process freed: no more reported for 5 s (at most 2 minutes). Memory still held by
 * the guest is cheap to touch again and memory handed back is not: on the project's EPYC VM a process touched 4 GiB of
 * fresh memory in 0.35 s right after another had freed 11 GiB and in 7.9 s once that had gone back (40 s later), and
 * the two sessions of a Llama-3.2-1B compare opened in 5–6 s against 11–12 s. Without this wait, whichever side
 * starts allocating sooner after the other side's process exits gets the cheap memory; with it, every measured
 * process starts alike.
 */
export function settleFreedMemory(): void {
  if (!existsSync(reportedKib)) return;
  const started = Date.now();
  let last = readFileSync(reportedKib, 'utf8');
  let quietSince = Date.now();
  while (Date.now() - quietSince < 5000 && Date.now() - started < 120_000) {
    spawnSync('sleep', ['1']);
    const now = readFileSync(reportedKib, 'utf8');
    if (now !== last) [last, quietSince] = [now, Date.now()];
  }
}

/**
 * This machine is shared: before a process that holds `bytes`, wait (up to 10 minutes) until that much is free, then
 * until the memory freed before it has settled (settleFreedMemory).
 */
export function waitForMemory(bytes: number, what: string, log: (line: string) => void): void {
  const deadline = Date.now() + 10 * 60_000;
  const gib = (value: number) => (value / 2 ** 30).toFixed(1);
  while (availableBytes() < bytes) {
    if (Date.now() > deadline)
      throw new Error(`${what} needs ${gib(bytes)} GiB free, only ${gib(availableBytes())} GiB is: stopped`);
    log(`${what}: waiting for ${gib(bytes)} GiB of free memory (${gib(availableBytes())} GiB now)`);
    spawnSync('sleep', ['15']);
  }
  settleFreedMemory();
}

/** The JSON object a benchmark process prints on its last line. */
export function lastJson(output: string): Measurement {
  return JSON.parse(output.trim().split('\n').at(-1)!) as Measurement;
}
