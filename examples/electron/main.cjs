// Electron main process (documented, not run here: Electron cannot be
// installed on the test machines). See docs/concurrency.md (worker_threads and Electron).
//
//   npm install esem-bridge electron
//   npx electron examples/electron/main.cjs
//
// Packaging: unpack the addon and the Python runtime from the asar archive
// (electron-builder: "asarUnpack": ["**/node_modules/esem-bridge/{prebuilds,build,python}/**"]).
const { app, BrowserWindow, ipcMain } = require("electron");
const path = require("node:path");
const { python, shutdown } = require("esem-bridge");

let calc;

app.whenReady().then(async () => {
  calc = await python(path.join(__dirname, "..", "calculator.py"));
  ipcMain.handle("add", (_event, a, b) => calc.add(a, b)); // a Python call per IPC request, off the UI thread
  const win = new BrowserWindow({ webPreferences: { preload: path.join(__dirname, "preload.cjs") } });
  await win.loadURL("data:text/html,<h1>esem-bridge in Electron</h1>");
});

app.on("window-all-closed", async () => {
  await shutdown();
  app.quit();
});
