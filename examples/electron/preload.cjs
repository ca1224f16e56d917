// Exposes the main process's Python-backed add() to the page.
const { contextBridge, ipcRenderer } = require("electron");

contextBridge.exposeInMainWorld("python", { add: (a, b) => ipcRenderer.invoke("add", a, b) });
