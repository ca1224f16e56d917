// The CPython C-API surface of the addon, resolved at run time from a
// dlopen'd libpython. No Python header is included: every function listed
// here has the same signature and meaning in CPython 3.8-3.15 (GIL builds;
// the audit per symbol is docs/python-versions.md), so one binary serves all
// of them. Thread: loading happens once per process under a lock; the
// pointers are then read-only and usable from any thread that holds the GIL
// (the GIL functions themselves need no GIL).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace esem {

// Python's own Py_ssize_t is ssize_t on POSIX and Py_intptr_t on Windows
// (MSVC has no ssize_t): a signed integer of pointer size either way.
using Py_ssize_t = std::ptrdiff_t;
static_assert(sizeof(Py_ssize_t) == sizeof(void*), "Py_ssize_t is pointer-sized");
struct PyObject;  // opaque everywhere but PyObjectHead
struct PyThreadState;
struct PyInitConfig;  // PEP 741 (3.14+), opaque
using PyGILState_STATE = int;

// The object header every non-debug GIL build of 3.8-3.15 shares (3.12's
// ob_refcnt union, 3.14's ob_flags/ob_overflow halves keep the size). Only
// ob_type is read. A free-threaded build (Py_GIL_DISABLED) has a 32-byte
// header with ob_type last: LoadPyApi refuses its libpython.
struct PyObjectHead {
  Py_ssize_t refcnt;
  PyObject* type;
};

inline PyObject* TypeOf(PyObject* o) { return reinterpret_cast<PyObjectHead*>(o)->type; }

// Layout unchanged since Python 3.0 (PEP 3118).
struct PyBuffer {
  void* buf;
  PyObject* obj;
  Py_ssize_t len;
  Py_ssize_t itemsize;
  int readonly;
  int ndim;
  char* format;
  Py_ssize_t* shape;
  Py_ssize_t* strides;
  Py_ssize_t* suboffsets;
  void* internal;
};

// PyObjectArenaAllocator (Include/cpython/objimpl.h), unchanged since 3.4.
struct PyArenaAllocator {
  void* ctx;
  void* (*alloc)(void* ctx, size_t size);
  void (*free)(void* ctx, void* ptr, size_t size);
};

// PyMemAllocatorEx (Include/cpython/pymem.h), unchanged since 3.5, and the
// domain of PyMem_RawMalloc (PYMEM_DOMAIN_RAW = 0).
struct PyMemAllocator {
  void* ctx;
  void* (*malloc)(void* ctx, size_t size);
  void* (*calloc)(void* ctx, size_t nelem, size_t elsize);
  void* (*realloc)(void* ctx, void* ptr, size_t new_size);
  void (*free)(void* ctx, void* ptr);
};
constexpr int kPyMemDomainRaw = 0;

constexpr int kPyBufSimple = 0;
constexpr int kPyBufWritable = 0x0001;
constexpr int kPyBufFormat = 0x0004;
constexpr int kPyBufNd = 0x0008;
constexpr int kPyBufStrides = 0x0010 | kPyBufNd;

// PyType_Slot and PyType_Spec (Include/object.h), unchanged since 3.2.
struct PyTypeSlot {
  int slot;
  void* pfunc;
};
struct PyTypeSpec {
  const char* name;
  int basicsize;
  int itemsize;
  unsigned int flags;
  PyTypeSlot* slots;  // ends with {0, nullptr}
};

// Slot ids (Include/typeslots.h). The buffer slot exists in 3.8's table
// but only work from 3.9 (bpo-40724); py_js_buffer.cc sets them by hand there.
constexpr int kPyBfGetBuffer = 1;
constexpr int kPyTpDealloc = 52;
constexpr int kPyTpDoc = 56;
constexpr int kPyTpCall = 50;
constexpr int kPyTpNew = 65;
constexpr int kPyTpRepr = 66;
constexpr int kPyTpMembers = 72;

// PyMemberDef (Include/descrobject.h, structmember.h before 3.12),
// unchanged since 2.2; the type codes and READONLY are stable ABI.
struct PyMemberDefinition {
  const char* name;
  int type;
  Py_ssize_t offset;
  int flags;
  const char* doc;
};
constexpr int kPyTObject = 6;
constexpr int kPyTLongLong = 17;
constexpr int kPyTPySsizeT = 19;
constexpr int kPyReadOnly = 1;

// PyMethodDef and PyModuleDef (Include/methodobject.h, moduleobject.h),
// unchanged since 3.5; METH_FASTCALL is stable ABI from 3.10 and the same
// bit and signature since 3.7. Only native/wire_module.cc makes a module.
using PyFastFunction = PyObject* (*)(PyObject* self, PyObject* const* args, Py_ssize_t nargs);
struct PyMethodDefinition {
  const char* name;
  PyFastFunction method;
  int flags;
  const char* doc;
};
constexpr int kMethFastcall = 0x0080;
struct PyModuleDefinition {
  PyObjectHead head;  // PyModuleDef_Base: the object header, m_init, m_index, m_copy
  PyObject* (*init)(void);
  Py_ssize_t index;
  PyObject* copy;
  const char* name;
  const char* doc;
  Py_ssize_t size;
  PyMethodDefinition* methods;
  void* slots;
  void* traverse;
  void* clear;
  void* free;
};
constexpr int kPythonApiVersion = 1013;  // PYTHON_API_VERSION, 3.0-3.15

// Vectorcall (PEP 590): the flag bit (3.8's provisional
// _Py_TPFLAGS_HAVE_VECTORCALL is the same bit) and the nargsf offset bit.
constexpr unsigned long kTpFlagsHaveVectorcall = 1UL << 11;
constexpr size_t kVectorcallArgumentsOffset = static_cast<size_t>(1) << (8 * sizeof(size_t) - 1);
using VectorcallFunc = PyObject* (*)(PyObject* callable, PyObject* const* args, size_t nargsf, PyObject* kwnames);

constexpr unsigned long kTpFlagsLongSubclass = 1UL << 24;
constexpr unsigned long kTpFlagsListSubclass = 1UL << 25;
constexpr unsigned long kTpFlagsTupleSubclass = 1UL << 26;
constexpr unsigned long kTpFlagsBytesSubclass = 1UL << 27;
constexpr unsigned long kTpFlagsUnicodeSubclass = 1UL << 28;
constexpr unsigned long kTpFlagsDictSubclass = 1UL << 29;
constexpr unsigned long kTpFlagsBaseExcSubclass = 1UL << 30;
constexpr unsigned long kTpFlagsTypeSubclass = 1UL << 31;

// X(return type, name, parameter list)
#define ESEM_PY_FUNCTIONS(X)                                                        \
  X(void, Py_InitializeEx, (int))                                                   \
  X(int, Py_IsInitialized, (void))                                                  \
  X(wchar_t*, Py_DecodeLocale, (const char*, size_t*))                              \
  X(PyThreadState*, PyEval_SaveThread, (void))                                      \
  X(void, PyEval_RestoreThread, (PyThreadState*))                                   \
  X(PyGILState_STATE, PyGILState_Ensure, (void))                                    \
  X(void, PyGILState_Release, (PyGILState_STATE))                                   \
  X(int, PyThreadState_SetAsyncExc, (unsigned long, PyObject*))                     \
  X(unsigned long, PyThread_get_thread_ident, (void))                               \
  X(int, PyGILState_Check, (void))                                                  \
  X(void, Py_IncRef, (PyObject*))                                                   \
  X(void, Py_DecRef, (PyObject*))                                                   \
  X(PyObject*, PyLong_FromLongLong, (long long))                                    \
  X(PyObject*, PyLong_FromUnsignedLongLong, (unsigned long long))                   \
  X(long long, PyLong_AsLongLongAndOverflow, (PyObject*, int*))                     \
  X(PyObject*, PyLong_FromString, (const char*, char**, int))                       \
  X(PyObject*, PyFloat_FromDouble, (double))                                        \
  X(double, PyFloat_AsDouble, (PyObject*))                                          \
  X(PyObject*, PyLong_FromDouble, (double))                                         \
  X(char*, PyOS_double_to_string, (double, char, int, int, int*))                   \
  X(double, PyOS_string_to_double, (const char*, char**, PyObject*))                \
  X(void, PyMem_Free, (void*))                                                      \
  X(PyObject*, PyUnicode_DecodeUTF16, (const char*, Py_ssize_t, const char*, int*)) \
  X(PyObject*, PyUnicode_DecodeUTF8, (const char*, Py_ssize_t, const char*))        \
  X(PyObject*, PyUnicode_FromStringAndSize, (const char*, Py_ssize_t))              \
  X(PyObject*, PyUnicode_FromString, (const char*))                                 \
  X(PyObject*, PyUnicode_InternFromString, (const char*))                           \
  X(const char*, PyUnicode_AsUTF8AndSize, (PyObject*, Py_ssize_t*))                 \
  X(PyObject*, PyUnicode_AsEncodedString, (PyObject*, const char*, const char*))    \
  X(PyObject*, PyBytes_FromStringAndSize, (const char*, Py_ssize_t))                \
  X(int, PyBytes_AsStringAndSize, (PyObject*, char**, Py_ssize_t*))                 \
  X(PyObject*, PyByteArray_FromStringAndSize, (const char*, Py_ssize_t))            \
  X(int, PyByteArray_Resize, (PyObject*, Py_ssize_t))                               \
  X(char*, PyByteArray_AsString, (PyObject*))                                       \
  X(Py_ssize_t, PyByteArray_Size, (PyObject*))                                      \
  X(PyObject*, PyMemoryView_FromObject, (PyObject*))                                \
  X(int, PyObject_GetBuffer, (PyObject*, PyBuffer*, int))                           \
  X(void, PyBuffer_Release, (PyBuffer*))                                            \
  X(PyObject*, PyTuple_New, (Py_ssize_t))                                           \
  X(int, PyTuple_SetItem, (PyObject*, Py_ssize_t, PyObject*))                       \
  X(PyObject*, PyTuple_GetItem, (PyObject*, Py_ssize_t))                            \
  X(Py_ssize_t, PyTuple_Size, (PyObject*))                                          \
  X(PyObject*, PyList_New, (Py_ssize_t))                                            \
  X(int, PyList_SetItem, (PyObject*, Py_ssize_t, PyObject*))                        \
  X(PyObject*, PyList_GetItem, (PyObject*, Py_ssize_t))                             \
  X(Py_ssize_t, PyList_Size, (PyObject*))                                           \
  X(int, PyList_Append, (PyObject*, PyObject*))                                     \
  X(PyObject*, PyDict_New, (void))                                                  \
  X(int, PyDict_SetItem, (PyObject*, PyObject*, PyObject*))                         \
  X(PyObject*, PyDict_GetItem, (PyObject*, PyObject*))                              \
  X(int, PyDict_DelItem, (PyObject*, PyObject*))                                    \
  X(int, PyDict_Next, (PyObject*, Py_ssize_t*, PyObject**, PyObject**))             \
  X(Py_ssize_t, PyDict_Size, (PyObject*))                                           \
  X(PyObject*, PySet_New, (PyObject*))                                              \
  X(int, PySet_Add, (PyObject*, PyObject*))                                         \
  X(PyObject*, PyObject_GetIter, (PyObject*))                                       \
  X(PyObject*, PyIter_Next, (PyObject*))                                            \
  X(PyObject*, PyObject_GetAttr, (PyObject*, PyObject*))                            \
  X(PyObject*, PyObject_GetAttrString, (PyObject*, const char*))                    \
  X(int, PyObject_HasAttrString, (PyObject*, const char*))                          \
  X(int, PyObject_SetAttr, (PyObject*, PyObject*, PyObject*))                       \
  X(int, PyObject_SetAttrString, (PyObject*, const char*, PyObject*))               \
  X(void, PyErr_SetObject, (PyObject*, PyObject*))                                  \
  X(PyObject*, PyObject_Call, (PyObject*, PyObject*, PyObject*))                    \
  X(PyObject*, PyObject_Str, (PyObject*))                                           \
  X(PyObject*, PyObject_Format, (PyObject*, PyObject*))                             \
  X(int, PyType_IsSubtype, (PyObject*, PyObject*))                                  \
  X(unsigned long, PyType_GetFlags, (PyObject*))                                    \
  X(PyObject*, PyImport_ImportModule, (const char*))                                \
  X(PyObject*, PySys_GetObject, (const char*))                                      \
  X(int, PySys_SetObject, (const char*, PyObject*))                                 \
  X(PyObject*, PyErr_Occurred, (void))                                              \
  X(void, PyErr_Fetch, (PyObject**, PyObject**, PyObject**))                        \
  X(void, PyErr_Restore, (PyObject*, PyObject*, PyObject*))                         \
  X(void, PyErr_NormalizeException, (PyObject**, PyObject**, PyObject**))           \
  X(int, PyException_SetTraceback, (PyObject*, PyObject*))                          \
  X(void, PyErr_Clear, (void))                                                      \
  X(void, PyErr_SetString, (PyObject*, const char*))                                \
  X(PyObject*, PyType_FromSpec, (PyTypeSpec*))                                      \
  X(PyObject*, PyType_GenericAlloc, (PyObject*, Py_ssize_t))                        \
  X(void, PyObject_ClearWeakRefs, (PyObject*))                                      \
  X(PyObject*, PyImport_GetModuleDict, (void))                                      \
  X(PyObject*, PyModule_Create2, (PyModuleDefinition*, int))                        \
  X(PyObject*, PyLong_FromVoidPtr, (void*))                                         \
  X(void*, PyLong_AsVoidPtr, (PyObject*))                                           \
  X(void, PyObject_Free, (void*))                                                   \
  X(const char*, Py_GetVersion, (void))

// X(return type, name, parameter list): functions only some versions have,
// resolved when present (nullptr otherwise). Initialization takes the
// PEP 741 set when the library has it (3.14+), else Py_SetProgramName
// (deprecated in 3.11, pending removal in 3.15): one of the two must be
// there (LoadPyApi checks).
#define ESEM_PY_OPTIONAL_FUNCTIONS(X)                                     \
  X(void, Py_SetProgramName, (const wchar_t*))                            \
  X(PyInitConfig*, PyInitConfig_Create, (void))                           \
  X(void, PyInitConfig_Free, (PyInitConfig*))                             \
  X(int, PyInitConfig_SetInt, (PyInitConfig*, const char*, int64_t))      \
  X(int, PyInitConfig_SetStr, (PyInitConfig*, const char*, const char*))  \
  X(int, PyInitConfig_GetError, (PyInitConfig*, const char**))            \
  X(int, Py_InitializeFromInitConfig, (PyInitConfig*))                   \
  X(void, PyObject_GetArenaAllocator, (PyArenaAllocator*))                \
  X(void, PyObject_SetArenaAllocator, (PyArenaAllocator*))               \
  X(void, PyMem_GetAllocator, (int, PyMemAllocator*))                     \
  X(void, PyMem_SetAllocator, (int, PyMemAllocator*))

// X(name): data symbols whose address is the object (types, singletons).
#define ESEM_PY_OBJECTS(X) \
  X(_Py_NoneStruct)        \
  X(_Py_TrueStruct)        \
  X(_Py_FalseStruct)       \
  X(PyBool_Type)           \
  X(PyLong_Type)           \
  X(PyFloat_Type)          \
  X(PyUnicode_Type)        \
  X(PyBytes_Type)          \
  X(PyByteArray_Type)      \
  X(PyMemoryView_Type)     \
  X(PyList_Type)           \
  X(PyTuple_Type)          \
  X(PyDict_Type)           \
  X(PySet_Type)            \
  X(PyFrozenSet_Type)      \
  X(PyModule_Type)

// X(name): data symbols that hold a PyObject* (exception classes).
#define ESEM_PY_OBJECT_POINTERS(X) \
  X(PyExc_TypeError)               \
  X(PyExc_ValueError)              \
  X(PyExc_RuntimeError)            \
  X(PyExc_MemoryError)

struct PyApi {
#define ESEM_DECLARE_FN(ret, name, params) ret(*name) params = nullptr;
  ESEM_PY_FUNCTIONS(ESEM_DECLARE_FN)
  ESEM_PY_OPTIONAL_FUNCTIONS(ESEM_DECLARE_FN)
#undef ESEM_DECLARE_FN
#define ESEM_DECLARE_OBJ(name) PyObject* name = nullptr;
  ESEM_PY_OBJECTS(ESEM_DECLARE_OBJ)
  ESEM_PY_OBJECT_POINTERS(ESEM_DECLARE_OBJ)
#undef ESEM_DECLARE_OBJ
  int major = 0;  // from Py_GetVersion()
  int minor = 0;

  // Whether the PEP 741 initialization functions are all there (3.14+).
  bool HasInitConfig() const {
    return PyInitConfig_Create && PyInitConfig_Free && PyInitConfig_SetInt && PyInitConfig_SetStr &&
           PyInitConfig_GetError && Py_InitializeFromInitConfig;
  }
};

// The process-wide table, valid after LoadPyApi succeeded.
const PyApi& Py();

// dlopens each candidate in turn (RTLD_GLOBAL, so C extensions such as numpy
// resolve their libpython symbols) and fills the table. A library that is
// older than 3.8, free-threaded, or lacks every way to initialize is
// refused (AbiProblem in py_api.cc). Returns "" on success, else a
// description of every attempt. Safe to call again: once a
// library is loaded, later calls succeed only with the same library.
std::string LoadPyApi(const std::vector<std::string>& candidates, std::string* loaded_path);

}  // namespace esem
