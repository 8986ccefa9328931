// Routes renderer IPC to the api service: one invoke handler, the sender frame checked on every message,
// job events pushed back on the contract's event channel. Errors cross as values (Result), never as throws.

import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { ApiClientSession, ApiService } from '../host/api-service.ts';
import { appError, electronInvokeChannel, fail, jobEventChannel } from '../shared/index.ts';

export function attachIpcRouter(api: ApiService, contents: WebContents): void {
  let client: ApiClientSession | null = null;
  const endClient = () => {
    client?.dispose();
    client = null;
  };

  // Only the main frame of our own window, showing our own bundled file, may call the engine.
  const isTrustedSender = (event: IpcMainInvokeEvent) =>
    event.sender === contents &&
    event.senderFrame !== null &&
    event.senderFrame === contents.mainFrame &&
    event.senderFrame.url.startsWith('file://');

  ipcMain.handle(electronInvokeChannel, async (event, channel: unknown, payload: unknown) => {
    if (!isTrustedSender(event))
      return fail(appError('INPUT_INVALID', 'IPC from an untrusted frame.', 'Reload the window.'));
    client ??= api.connect((jobEvent) => {
      if (!contents.isDestroyed()) contents.send(jobEventChannel, jobEvent);
    });
    return client.invoke(channel, payload);
  });
  // A reload starts a new renderer whose old jobs have no listener any more; a closed window has none at all.
  contents.on('did-start-navigation', (details) => {
    if (details.isMainFrame && !details.isSameDocument) endClient();
  });
  contents.once('destroyed', () => {
    endClient();
    ipcMain.removeHandler(electronInvokeChannel);
  });
}
