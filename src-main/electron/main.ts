// Electron main process: app lifecycle, one locked-down window, and the IPC router over the engine.
// Kept thin: everything that computes lives in core/ and runs in the engine host's worker threads.

import { app, BrowserWindow, dialog, session, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../host/engine.ts';
import { contentSecurityPolicy } from '../server/security.ts';
import { attachIpcRouter } from './ipc-router.ts';

const rendererIndex = fileURLToPath(new URL('../renderer/index.html', import.meta.url));
const preloadPath = fileURLToPath(new URL('../preload/preload.cjs', import.meta.url));
const rendererUrl = new URL('../renderer/index.html', import.meta.url).href;

const engine = createEngine(
  'electron',
  { workerUrl: new URL('./engine-worker.js', import.meta.url) },
  {
    reveal: (path) => {
      shell.showItemInFolder(path);
      return Promise.resolve(true);
    },
    choosePath: async (kind) => {
      const window = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
      const options: Electron.OpenDialogOptions = { properties: [kind === 'folder' ? 'openDirectory' : 'openFile'] };
      const chosen = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
    },
  },
);

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'ToxScope',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  // Navigation lock: the window shows the bundled renderer and nothing else; links open in the system browser.
  window.webContents.on('will-navigate', (event, url) => {
    if (url !== rendererUrl) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void window.loadFile(rendererIndex);
  return window;
}

app.enableSandbox();
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy] } });
  });
  // Offline by construction: the renderer may load only its own files.
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const local = details.url.startsWith('file://') || details.url.startsWith('devtools://');
    callback({ cancel: !local });
  });
  const window = createWindow();
  attachIpcRouter(engine.api, window.webContents);
});

app.on('window-all-closed', () => {
  void engine.host.close().finally(() => app.quit());
});
