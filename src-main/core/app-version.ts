// The application version, from package.json (bundled at build time).

import { version } from '../../package.json' with { type: 'json' };

export const appVersion: string = version;
