// A mistake in the command line itself (exit 2, with a pointer to --help).

export class UsageError extends Error {}
