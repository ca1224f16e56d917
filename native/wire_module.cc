// The native value path for the subprocess worker: a small library
// (esem_wire.so, built beside the addon, without Node) that
// python/esem_bridge/native_codec.py imports as the extension module
// `esem_wire` (PyInit_esem_wire below), so its frames are read and written
// by the same C++ as the native mode's values (py_wire_read.cc,
// py_wire_write.cc) instead of the pure-Python codec.py. The same entry
// points are also exported as plain C functions, for ctypes.PyDLL where an
// extension module cannot be loaded. Every entry point runs in the
// worker's Python, GIL held.
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "py_arena_cache.h"
#include "py_large_blocks.h"
#include "py_context.h"
#include "py_json.h"
#include "py_wire.h"
#include "wire_buffers.h"
#include "wire_tags.h"

#if defined(__linux__)
#include <sys/prctl.h>
#endif

#if defined(_WIN32)
#define ESEM_EXPORT extern "C" __declspec(dllexport)
#else
#define ESEM_EXPORT extern "C" __attribute__((visibility("default")))
#endif

namespace esem {

// Nothing is lent to JS from the worker (WriteValue writes every payload
// inline), so no export is ever discarded.
void DiscardExport(BufferExport* e) { delete e; }

namespace {

std::string g_error;

// The cold lane's results (src/json-lane.ts has the why and the sizes):
// the worker's first kJsonLaneBytes of plain container results go as JSON
// text, each at most kJsonResultBytes; one larger closes the lane.
// ESEM_JSON_LANE=0 turns it off, =always keeps it open (for tests).
constexpr size_t kJsonLaneBytes = size_t(1) << 20;
constexpr size_t kJsonResultBytes = size_t(1) << 18;

struct WireContext {
  PyContext ctx;
  OwnedRef failure;  // codec.BridgeFailure, raised for malformed bytes and released proxies
  size_t json_left = 0;  // JSON text results may still take
  bool json_always = false;
};

void StartJsonLane(WireContext* w) {
  const char* setting = std::getenv("ESEM_JSON_LANE");
  w->json_always = setting && std::strcmp(setting, "always") == 0;
  w->json_left = setting && std::strcmp(setting, "0") == 0 ? 0 : kJsonLaneBytes;
}

// An Ok reply's value as JSON text, appended to *frame (after its header):
// kJson, u32 n, the text. False (nothing appended) when it does not take the lane.
bool AppendJsonResult(WireContext* w, PyObject* value, std::string* frame) {
  if (w->json_left == 0) return false;
  std::string text;
  bool ascii = false, overflow = false;
  if (!WriteJsonContainer(value, std::min(w->json_left, kJsonResultBytes), &text, &ascii, &overflow)) {
    if (overflow && !w->json_always) w->json_left = 0;
    return false;
  }
  if (!w->json_always) w->json_left -= std::min(w->json_left, text.size());
  frame->push_back(static_cast<char>(wire::kJson));
  for (int i = 0; i < 4; i++) frame->push_back(static_cast<char>((text.size() >> (8 * i)) & 0xFF));
  frame->append(text);
  return true;
}

void Raise(WireContext* w, const std::string& code, const std::string& message) {
  const PyApi& py = Py();
  OwnedRef args = OwnedRef::Steal(py.PyTuple_New(2));
  if (!args) return;
  py.PyTuple_SetItem(args.get(), 0, py.PyUnicode_FromStringAndSize(code.data(), static_cast<Py_ssize_t>(code.size())));
  py.PyTuple_SetItem(args.get(), 1,
                     py.PyUnicode_FromStringAndSize(message.data(), static_cast<Py_ssize_t>(message.size())));
  OwnedRef exc = OwnedRef::Steal(py.PyObject_Call(w->failure.get(), args.get(), nullptr));
  if (exc) py.PyErr_SetObject(w->failure.get(), exc.get());
}

// The contexts made so far (never freed: one per worker codec): the
// module's functions take a context as an int and check it is one of them.
std::vector<WireContext*> g_contexts;

}  // namespace
}  // namespace esem

using esem::OwnedRef;
using esem::Py;
using esem::PyObject;
using esem::Py_ssize_t;

// The C-API of the running Python ("" or a libpython path). 0 on success.
ESEM_EXPORT int esem_wire_load(const char* libpython) {
  std::string loaded;
  esem::g_error = esem::LoadPyApi({libpython ? libpython : ""}, &loaded);
  return esem::g_error.empty() ? 0 : -1;
}

ESEM_EXPORT const char* esem_wire_error() { return esem::g_error.c_str(); }

// A codec over the worker's registry (registry.py's Registry); `failure` is
// codec.BridgeFailure. nullptr with a Python error set.
ESEM_EXPORT void* esem_wire_context(PyObject* registry, PyObject* failure) {
  auto* w = new esem::WireContext();
  std::string error = w->ctx.Load();
  if (error.empty() && !w->ctx.registry.UsePython(registry)) error = "the registry has no objects dict or next_id";
  if (error.empty() && Py().PyObject_HasAttrString(registry, "callbacks")) {
    // The worker's CallbackTable (python/esem_bridge/worker.py sets it first).
    OwnedRef table = OwnedRef::Steal(Py().PyObject_GetAttrString(registry, "callbacks"));
    if (!table) {
      Py().PyErr_Clear();  // a registry without a table (python/tests): no JS functions
    } else if (table.get() != Py()._Py_NoneStruct && !w->ctx.SetCallbacks(table.get())) {
      error = "the registry's callbacks table has no function()";
    }
  }
  if (!error.empty()) {
    w->ctx.Clear();
    delete w;
    if (!Py().PyErr_Occurred()) Py().PyErr_SetString(Py().PyExc_RuntimeError, error.c_str());
    return nullptr;
  }
  w->failure = OwnedRef::Borrow(failure);
  StartJsonLane(w);
  return w;
}

// The values of buf[pos:end] as a list.
ESEM_EXPORT PyObject* esem_wire_read(void* context, PyObject* buf, Py_ssize_t pos, Py_ssize_t end) {
  auto* w = static_cast<esem::WireContext*>(context);
  const esem::PyApi& py = Py();
  esem::PyBuffer view;
  if (py.PyObject_GetBuffer(buf, &view, esem::kPyBufSimple) < 0) return nullptr;
  if (pos < 0 || end < pos || end > view.len) {
    py.PyBuffer_Release(&view);
    esem::Raise(w, "ESEM_INTERNAL", "malformed wire data: a frame outside its buffer");
    return nullptr;
  }
  OwnedRef out = OwnedRef::Steal(py.PyList_New(0));
  std::string code, message;
  bool ok = out && esem::ReadValues(w->ctx, static_cast<const char*>(view.buf) + pos, static_cast<size_t>(end - pos),
                                    out.get(), &code, &message);
  py.PyBuffer_Release(&view);
  if (ok) return out.Release();
  if (!code.empty()) esem::Raise(w, code, message);
  return nullptr;
}

// Appends the wire form of value to out (a bytearray), a Ref whatever it
// is when as_ref; returns None.
ESEM_EXPORT PyObject* esem_wire_write(void* context, PyObject* value, PyObject* out, int as_ref) {
  auto* w = static_cast<esem::WireContext*>(context);
  const esem::PyApi& py = Py();
  std::string bytes;
  bool ok = esem::WriteValue(w->ctx, value, &bytes, as_ref != 0);
  w->ctx.registry.SyncBack();
  if (!ok) return nullptr;
  Py_ssize_t at = py.PyByteArray_Size(out);
  if (at < 0 || py.PyByteArray_Resize(out, at + static_cast<Py_ssize_t>(bytes.size())) < 0) return nullptr;
  if (!bytes.empty()) std::memcpy(py.PyByteArray_AsString(out) + at, bytes.data(), bytes.size());
  return OwnedRef::Borrow(py._Py_NoneStruct).Release();
}

// --- the extension module `esem_wire` -----------------------------------
// Its functions are METH_FASTCALL: a call costs ~50 ns where a ctypes call
// costs ~600 ns, which is most of a small frame's codec time.

namespace esem {
namespace {

bool WantArgs(Py_ssize_t nargs, Py_ssize_t want, const char* usage) {
  if (nargs == want) return true;
  Py().PyErr_SetString(Py().PyExc_TypeError, usage);
  return false;
}

// args[i] as a context made by context(); nullptr with TypeError otherwise.
WireContext* ContextArg(PyObject* arg) {
  void* p = Py().PyLong_AsVoidPtr(arg);
  auto* w = static_cast<WireContext*>(p);
  if (p && std::find(g_contexts.begin(), g_contexts.end(), w) != g_contexts.end()) return w;
  if (!Py().PyErr_Occurred()) Py().PyErr_SetString(Py().PyExc_TypeError, "not a codec context from esem_wire.context()");
  return nullptr;
}

bool SizeArg(PyObject* arg, Py_ssize_t* out) {
  int overflow = 0;
  long long v = Py().PyLong_AsLongLongAndOverflow(arg, &overflow);
  if (v == -1 && Py().PyErr_Occurred()) return false;
  if (overflow || v < 0) {
    Py().PyErr_SetString(Py().PyExc_ValueError, "a position must be a non-negative int");
    return false;
  }
  *out = static_cast<Py_ssize_t>(v);
  return true;
}

bool Truthy(PyObject* arg) {
  if (arg == Py()._Py_TrueStruct) return true;
  if (arg == Py()._Py_FalseStruct || arg == Py()._Py_NoneStruct) return false;
  int overflow = 0;
  long long v = Py().PyLong_AsLongLongAndOverflow(arg, &overflow);
  Py().PyErr_Clear();
  return v != 0 || overflow != 0;
}

// context(registry, failure) -> int
PyObject* ModContext(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!WantArgs(nargs, 2, "context(registry, failure)")) return nullptr;
  void* w = esem_wire_context(args[0], args[1]);
  if (!w) return nullptr;
  g_contexts.push_back(static_cast<WireContext*>(w));
  return Py().PyLong_FromVoidPtr(w);
}

// read(context, buf, pos, end) -> list of the values in buf[pos:end]
PyObject* ModRead(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!WantArgs(nargs, 4, "read(context, buf, pos, end)")) return nullptr;
  WireContext* w = ContextArg(args[0]);
  Py_ssize_t pos = 0, end = 0;
  if (!w || !SizeArg(args[2], &pos) || !SizeArg(args[3], &end)) return nullptr;
  return esem_wire_read(w, args[1], pos, end);
}

// write(context, value, out, as_ref) -> None; appends to the bytearray out
PyObject* ModWrite(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!WantArgs(nargs, 4, "write(context, value, out, as_ref)")) return nullptr;
  WireContext* w = ContextArg(args[0]);
  if (!w) return nullptr;
  if (TypeOf(args[2]) != Py().PyByteArray_Type) {
    Py().PyErr_SetString(Py().PyExc_TypeError, "write(): out must be a bytearray");
    return nullptr;
  }
  return esem_wire_write(w, args[1], args[2], Truthy(args[3]) ? 1 : 0);
}

// reply(context, status, seq, value[, as_ref]) -> bytearray: a whole reply
// frame (u32 payload length, u8 status, u32 seq, the value), the header
// worker.py's answer() would otherwise pack in Python around write().
PyObject* ModReply(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4 && nargs != 5) {
    Py().PyErr_SetString(Py().PyExc_TypeError, "reply(context, status, seq, value[, as_ref])");
    return nullptr;
  }
  WireContext* w = ContextArg(args[0]);
  Py_ssize_t status = 0, seq = 0;
  if (!w || !SizeArg(args[1], &status) || !SizeArg(args[2], &seq)) return nullptr;
  if (status > 0xFF || seq > 0xFFFFFFFFLL) {
    Py().PyErr_SetString(Py().PyExc_ValueError, "reply(): status is a byte and seq a u32");
    return nullptr;
  }
  std::string bytes(9, '\0');
  bool as_ref = nargs == 5 && Truthy(args[4]);
  bool ok = (status == 0 && !as_ref && AppendJsonResult(w, args[3], &bytes)) || WriteValue(w->ctx, args[3], &bytes, as_ref);
  w->ctx.registry.SyncBack();
  if (!ok) return nullptr;
  if (bytes.size() - 4 > 0xFFFFFFFFULL) {
    Py().PyErr_SetString(Py().PyExc_ValueError, "reply(): a reply larger than 4 GiB");
    return nullptr;
  }
  auto put32 = [&bytes](size_t at, uint64_t v) {
    for (int i = 0; i < 4; i++) bytes[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  put32(0, bytes.size() - 4);
  bytes[4] = static_cast<char>(status);
  put32(5, static_cast<uint64_t>(seq));
  PyObject* frame = Py().PyByteArray_FromStringAndSize(bytes.data(), static_cast<Py_ssize_t>(bytes.size()));
  KeepWireBuffer(&bytes);  // a large reply's buffer, for the next one (wire_buffers.h)
  return frame;
}

// cache_arenas() -> bool: keeps Python's freed object arenas for reuse, as
// the native mode does (py_arena_cache.h; ESEM_ARENA_CACHE_MB).
PyObject* ModCacheArenas(PyObject*, PyObject* const*, Py_ssize_t nargs) {
  if (!WantArgs(nargs, 0, "cache_arenas()")) return nullptr;
  bool ok = InstallArenaCache(ArenaCacheBudget());
  return OwnedRef::Borrow(ok ? Py()._Py_TrueStruct : Py()._Py_FalseStruct).Release();
}

// cache_large_blocks() -> bool: keeps Python's freed blocks of 1 MiB or
// more for the next ones, as the native mode does (py_large_blocks.h;
// ESEM_BLOCK_CACHE_MB). Before any other thread runs Python.
PyObject* ModCacheLargeBlocks(PyObject*, PyObject* const*, Py_ssize_t nargs) {
  if (!WantArgs(nargs, 0, "cache_large_blocks()")) return nullptr;
  bool ok = InstallLargeBlocks(BlockCacheBudget());
  return OwnedRef::Borrow(ok ? Py()._Py_TrueStruct : Py()._Py_FalseStruct).Release();
}

// trim_large_blocks() -> int: gives back the kept blocks nobody took for a
// second; the bytes still kept (the worker waits a second more before it
// trims again, and sleeps without waking once this is 0).
PyObject* ModTrimLargeBlocks(PyObject*, PyObject* const*, Py_ssize_t nargs) {
  if (!WantArgs(nargs, 0, "trim_large_blocks()")) return nullptr;
  TrimLargeBlocks();
  return Py().PyLong_FromUnsignedLongLong(static_cast<unsigned long long>(LargeBlocksHeld()));
}

// large_blocks() -> (in use, kept): bytes in those blocks now (for tests).
PyObject* ModLargeBlocks(PyObject*, PyObject* const*, Py_ssize_t nargs) {
  if (!WantArgs(nargs, 0, "large_blocks()")) return nullptr;
  const PyApi& py = Py();
  OwnedRef live = OwnedRef::Steal(py.PyLong_FromUnsignedLongLong(static_cast<unsigned long long>(LargeBlocksLive())));
  OwnedRef held = OwnedRef::Steal(py.PyLong_FromUnsignedLongLong(static_cast<unsigned long long>(LargeBlocksHeld())));
  OwnedRef pair = OwnedRef::Steal(py.PyTuple_New(2));
  if (!live || !held || !pair) return nullptr;
  py.PyTuple_SetItem(pair.get(), 0, live.Release());  // steals
  py.PyTuple_SetItem(pair.get(), 1, held.Release());
  return pair.Release();
}

// die_with_parent() -> bool: on Linux, asks the kernel to SIGKILL this
// process when the thread that started it ends (PR_SET_PDEATHSIG): the
// worker never outlives Node, even when busy. False where there is no such
// call. (Here rather than through ctypes: importing ctypes costs ~1.3 ms of
// every worker's start.)
PyObject* ModDieWithParent(PyObject*, PyObject* const*, Py_ssize_t nargs) {
  if (!WantArgs(nargs, 0, "die_with_parent()")) return nullptr;
#if defined(__linux__)
  bool ok = prctl(PR_SET_PDEATHSIG, SIGKILL) == 0;
#else
  bool ok = false;
#endif
  return OwnedRef::Borrow(ok ? Py()._Py_TrueStruct : Py()._Py_FalseStruct).Release();
}

PyMethodDefinition g_methods[] = {
    {"context", ModContext, kMethFastcall, "context(registry, failure): a codec over a worker registry"},
    {"read", ModRead, kMethFastcall, "read(context, buf, pos, end): the values of buf[pos:end], as a list"},
    {"write", ModWrite, kMethFastcall, "write(context, value, out, as_ref): appends value's wire form to out"},
    {"reply", ModReply, kMethFastcall, "reply(context, status, seq, value[, as_ref]): a whole reply frame"},
    {"die_with_parent", ModDieWithParent, kMethFastcall, "die_with_parent(): SIGKILL when Node's thread ends (Linux)"},
    {"cache_arenas", ModCacheArenas, kMethFastcall, "cache_arenas(): keep freed object arenas for reuse"},
    {"cache_large_blocks", ModCacheLargeBlocks, kMethFastcall, "cache_large_blocks(): keep freed blocks of 1 MiB or more for reuse"},
    {"large_blocks", ModLargeBlocks, kMethFastcall, "large_blocks(): (bytes in use, bytes kept) of those blocks"},
    {"trim_large_blocks", ModTrimLargeBlocks, kMethFastcall, "trim_large_blocks(): give back kept blocks unused for a second; bytes still kept"},
    {nullptr, nullptr, 0, nullptr},
};

// Static, never freed: its refcount starts high so that no version's
// bookkeeping can take it to zero (3.12+ no longer resets it to 1).
PyModuleDefinition g_module = {
    {Py_ssize_t{1} << 30, nullptr}, nullptr, 0, nullptr, "esem_wire",
    "The subprocess worker's value codec (native/wire_module.cc).", -1, g_methods, nullptr, nullptr, nullptr, nullptr,
};

}  // namespace
}  // namespace esem

// Python imports the library as the module `esem_wire`: the C-API comes
// from the importing process (LoadPyApi with ""), as for esem_wire_load.
ESEM_EXPORT PyObject* PyInit_esem_wire() {
  if (esem_wire_load("") != 0) return nullptr;  // no API to raise with: Python reports a SystemError
  return Py().PyModule_Create2(&esem::g_module, esem::kPythonApiVersion);
}
