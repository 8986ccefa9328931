// Whether this browser profile (or desktop window) has opened the guide: until it has, the shell shows a banner that
// points first-time users to it. Kept in localStorage, so it is asked once per profile.

const seenKey = 'toxscope.guideSeen';

class FirstRun {
  /** The guide was opened, or the banner dismissed. */
  seen = $state(localStorage.getItem(seenKey) !== null);

  markSeen(): void {
    localStorage.setItem(seenKey, new Date().toISOString());
    this.seen = true;
  }
}

export const firstRun = new FirstRun();
