// Hash routing between the app's pages (works identically from file:// in Electron and over http in a browser).

export const pages = [
  { id: 'models', label: 'Models' },
  { id: 'compare', label: 'Compare' },
  { id: 'neurons', label: 'Neurons' },
  { id: 'interventions', label: 'Interventions' },
  { id: 'results', label: 'Results' },
  { id: 'detox', label: 'Detox' },
  { id: 'settings', label: 'Settings' },
] as const;

export type PageId = (typeof pages)[number]['id'];

/** The page of a hash such as `#/detox` or `#/detox?examples` (what follows `?` is for the page itself). */
function pageFromHash(hash: string): PageId {
  const id = hash.replace(/^#\/?/, '').split('?')[0];
  return pages.find((page) => page.id === id)?.id ?? 'models';
}

class Router {
  /** The page shown now, mirrored in location.hash so reloads and history work. */
  current = $state<PageId>(pageFromHash(location.hash));

  constructor() {
    window.addEventListener('hashchange', () => (this.current = pageFromHash(location.hash)));
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
