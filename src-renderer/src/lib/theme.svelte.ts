// Light/dark theme: follows the system by default, remembered per machine when the user picks one. The page's
// data-theme attribute changes in the same task as the choice, so effects that read CSS colours on a theme change
// (every chart's re-theming) already see the new theme's variables.

export type ThemeChoice = 'system' | 'light' | 'dark';

const storageKey = 'toxscope.theme';

function storedChoice(): ThemeChoice {
  const stored = localStorage.getItem(storageKey);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

class Theme {
  /** What the user picked. */
  choice = $state<ThemeChoice>(storedChoice());
  /** What the system prefers, tracked live. */
  systemDark = $state(matchMedia('(prefers-color-scheme: dark)').matches);
  /** The theme in effect. */
  resolved = $derived<'light' | 'dark'>(this.choice === 'system' ? (this.systemDark ? 'dark' : 'light') : this.choice);

  constructor() {
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', (event) => {
      this.systemDark = event.matches;
      this.#apply();
    });
    this.#apply();
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    if (choice === 'system') localStorage.removeItem(storageKey);
    else localStorage.setItem(storageKey, choice);
    this.#apply();
  }

  /** Writes the theme in effect to the page before any effect runs. */
  #apply(): void {
    document.documentElement.dataset.theme = this.resolved;
  }
}

export const theme = new Theme();
