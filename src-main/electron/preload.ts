// Sandboxed preload (built as CommonJS): exposes `window.api` — named functions only, never ipcRenderer itself.

import { contextBridge, ipcRenderer } from 'electron';
import {
  createApi,
  electronInvokeChannel,
  jobEventChannel,
  type InvokeChannel,
  type JobEvent,
  type Result,
} from '../shared/index.ts';

const api = createApi({
  invoke: (channel: InvokeChannel, payload: unknown) =>
    ipcRenderer.invoke(electronInvokeChannel, channel, payload) as Promise<Result<unknown>>,
  onJobEvent(listener: (event: JobEvent) => void) {
    const handler = (_event: Electron.IpcRendererEvent, jobEvent: JobEvent) => listener(jobEvent);
    ipcRenderer.on(jobEventChannel, handler);
    return () => void ipcRenderer.removeListener(jobEventChannel, handler);
  },
});

contextBridge.exposeInMainWorld('api', api);
