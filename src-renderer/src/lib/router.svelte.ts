// Hash routing between the app's pages (works identically from file:// in Electron and over http in a browser);
// a page's own address (a run, a neuron of it) follows the page's name: see neuron-route.ts.

import { parseRoute, type AppRoute } from './neuron-route.ts';

export const pages = [
  { id: 'models', label: 'Models' },
  { id: 'compare', label: 'Compare' },
  { id: 'neurons', label: 'Neurons' },
  { id: 'interventions', label: 'Interventions' },
  { id: 'results', label: 'Results' },
  { id: 'detox', label: 'Detox' },
  { id: 'settings', label: 'Settings' },
  { id: 'guide', label: 'Guide' },
] as const;

export type PageId = (typeof pages)[number]['id'];

/** The page of a hash such as `#/detox`, `#/detox?examples` or `#/neurons/run/3/17` (the rest is for the page). */
function pageFromHash(hash: string): PageId {
  const id = parseRoute(hash).page;
  return pages.find((page) => page.id === id)?.id ?? 'models';
}

class Router {
  /** The page shown now, mirrored in location.hash so reloads and history work. */
  current = $state<PageId>(pageFromHash(location.hash));
  /** The whole address: the page's run, neuron and options. */
  route = $state.raw<AppRoute>(parseRoute(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => {
      this.current = pageFromHash(location.hash);
      this.route = parseRoute(location.hash);
    });
  }

  go(page: PageId): void {
    location.hash = `#/${page}`;
  }

  /** Whether the hash asks the page for this option (`#/detox?examples`). */
  hasOption(option: string): boolean {
    return (location.hash.split('?')[1] ?? '').split('&').includes(option);
  }
}

export const router = new Router();
