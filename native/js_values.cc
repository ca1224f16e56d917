// Scalars, side buffers, results and errors on the JS thread.
#include "js_values.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

#include "py_js_buffer.h"

namespace esem {
namespace {

constexpr double kMaxSafe = 9007199254740991.0;
// Wire results at least this long are handed to JS without a copy.
constexpr size_t kExternalWire = 1u << 16;

napi_value Get(napi_env env, napi_ref ref) {
  napi_value v = nullptr;
  if (ref) napi_get_reference_value(env, ref, &v);
  return v;
}

napi_value Str(napi_env env, const std::string& s) {
  napi_value out = nullptr;
  napi_create_string_utf8(env, s.data(), s.size(), &out);
  return out;
}

napi_value Describe(napi_env env, const RefDescription& d) {
  napi_value desc, members, flag;
  napi_create_object(env, &desc);
  napi_set_named_property(env, desc, "kind", Str(env, d.kind));
  napi_set_named_property(env, desc, "typeName", Str(env, d.type_name));
  napi_create_array_with_length(env, d.members.size(), &members);
  for (size_t i = 0; i < d.members.size(); i++) {
    napi_set_element(env, members, static_cast<uint32_t>(i), Str(env, d.members[i]));
  }
  napi_set_named_property(env, desc, "members", members);
  napi_get_boolean(env, d.has_release, &flag);
  napi_set_named_property(env, desc, "hasRelease", flag);
  napi_get_boolean(env, d.callable, &flag);
  napi_set_named_property(env, desc, "callable", flag);
  napi_get_boolean(env, d.iterable, &flag);
  napi_set_named_property(env, desc, "iterable", flag);
  napi_value callables;
  napi_create_array(env, &callables);
  uint32_t n = 0;
  for (size_t i = 0; i < d.members.size() && i < d.callables.size(); i++) {
    if (d.callables[i]) napi_set_element(env, callables, n++, Str(env, d.members[i]));
  }
  napi_set_named_property(env, desc, "callables", callables);
  return desc;
}

napi_value Call(napi_env env, napi_ref fn, size_t argc, napi_value* argv) {
  napi_value global, out = nullptr;
  napi_get_global(env, &global);
  napi_value f = Get(env, fn);
  if (!f || napi_call_function(env, global, f, argc, argv, &out) != napi_ok) return nullptr;
  return out;
}


void FreeString(napi_env, void*, void* hint) { delete static_cast<std::string*>(hint); }

// The message bytes as a Buffer for the decoder. Large ones are lent, not
// copied: an external Buffer over `bytes`' own memory, which stays the
// job's (and goes back to the kept buffers, wire_buffers.h, when the job is
// done); EndLoan detaches it once the decode is over, so no JS object can
// reach the memory after that (the decoder copies out all it returns).
// Else, and where the runtime has no external buffers (Electron), a copy.
struct WireLoan {
  napi_value buffer = nullptr;
  bool lent = false;
};

WireLoan LendWire(napi_env env, std::string* bytes) {
  WireLoan loan;
  if (bytes->size() >= kExternalWire &&
      napi_create_external_buffer(env, bytes->size(), &(*bytes)[0], nullptr, nullptr, &loan.buffer) == napi_ok) {
    loan.lent = true;
    return loan;
  }
  void* unused;
  napi_create_buffer_copy(env, bytes->size(), bytes->data(), &unused, &loan.buffer);
  return loan;
}

void EndLoan(napi_env env, const WireLoan& loan, std::string* bytes) {
  if (!loan.lent) return;
  napi_value arraybuffer = nullptr;
  if (napi_get_typedarray_info(env, loan.buffer, nullptr, nullptr, nullptr, &arraybuffer, nullptr) == napi_ok &&
      napi_detach_arraybuffer(env, arraybuffer) == napi_ok) {
    return;
  }
  // Not detachable here: the Buffer owns the memory until it is collected
  // (moving a heap string keeps its address).
  auto* owned = new std::string(std::move(*bytes));
  if (napi_add_finalizer(env, loan.buffer, owned, FreeString, nullptr, nullptr) != napi_ok) {
    // No way to tie the memory to the Buffer: leaked rather than freed under it.
    (void)owned;
  }
}

void FreeExport(napi_env, void*, void* hint) { ExportPtr(static_cast<BufferExport*>(hint)); }

// A result's buffer that lies in JS memory lent through shared() (Python
// returned the view it was given, or a slice or array over it): a
// Uint8Array over the original ArrayBuffer at its offset, so JS gets its
// own memory back with no new backing store for the GC to finalize. Null
// where the memory is not such (or the view moved, was detached, or is a
// SharedArrayBuffer's), or the offset does not suit the item size.
napi_value LentView(napi_env env, const BufferExport& e) {
  const auto* data = static_cast<const char*>(e.view.buf);
  size_t size = static_cast<size_t>(e.view.len);
  napi_ref ref = e.view.len > 0 ? LentRef(env, data, size) : nullptr;
  napi_value original = nullptr, buffer = nullptr;
  if (!ref || napi_get_reference_value(env, ref, &original) != napi_ok || !original) return nullptr;
  bool is = false;
  if (napi_is_arraybuffer(env, original, &is) == napi_ok && is) {
    buffer = original;
  } else if (napi_is_typedarray(env, original, &is) == napi_ok && is) {
    napi_get_typedarray_info(env, original, nullptr, nullptr, nullptr, &buffer, nullptr);
  } else if (napi_is_dataview(env, original, &is) == napi_ok && is) {
    napi_get_dataview_info(env, original, nullptr, nullptr, &buffer, nullptr);
  }
  void* base = nullptr;
  size_t length = 0;
  if (!buffer || napi_get_arraybuffer_info(env, buffer, &base, &length) != napi_ok || !base) return nullptr;
  auto at = reinterpret_cast<uintptr_t>(data), start = reinterpret_cast<uintptr_t>(base);
  if (at < start || size > length || at - start > length - size) return nullptr;
  size_t offset = at - start;
  size_t item = e.view.itemsize > 0 ? static_cast<size_t>(e.view.itemsize) : 1;
  napi_value out = nullptr;
  if (offset % item != 0 || napi_create_typedarray(env, napi_uint8_array, size, buffer, offset, &out) != napi_ok) return nullptr;
  return out;
}

// Python memory as an ArrayBuffer over it (the export released when JS
// collects it), or a copy where the runtime forbids external buffers; JS
// memory lent through shared() as a view of its own ArrayBuffer.
napi_value ExportToJs(napi_env env, ExportPtr e) {
  if (napi_value lent = LentView(env, *e)) return lent;  // e is released on the host
  napi_value out = nullptr;
  void* data = e->view.buf;
  size_t size = static_cast<size_t>(e->view.len);
  BufferExport* raw = e.get();
  if (napi_create_external_arraybuffer(env, data, size, FreeExport, raw, &out) == napi_ok) {
    e.release();  // the finalizer owns it now
    return out;
  }
  void* copy = nullptr;
  if (napi_create_arraybuffer(env, size, &copy, &out) != napi_ok) return nullptr;
  std::memcpy(copy, data, size);
  return out;  // e released on the host
}

}  // namespace

napi_value ScalarToJs(napi_env env, const JsHelpers& helpers, Scalar& v) {
  napi_value out = nullptr;
  switch (v.kind) {
    case Scalar::Kind::kNone:
      napi_get_null(env, &out);
      break;
    case Scalar::Kind::kBool:
      napi_get_boolean(env, v.b, &out);
      break;
    case Scalar::Kind::kInt:
      napi_create_double(env, static_cast<double>(v.i), &out);
      break;
    case Scalar::Kind::kFloat:
      napi_create_double(env, v.f, &out);
      break;
    case Scalar::Kind::kStr:
      if (v.utf16) {
        napi_create_string_utf16(env, reinterpret_cast<const char16_t*>(v.s.data()), v.s.size() / 2, &out);
      } else {
        napi_create_string_utf8(env, v.s.data(), v.s.size(), &out);
      }
      break;
    case Scalar::Kind::kRef: {
      napi_value args[3];
      napi_create_double(env, static_cast<double>(v.ref), &args[0]);
      napi_create_uint32(env, v.type_index, &args[1]);
      if (v.desc) {
        args[2] = Describe(env, *v.desc);
      } else {
        napi_get_undefined(env, &args[2]);
      }
      out = Call(env, helpers.wrap, 3, args);
      break;
    }
  }
  return out;
}

bool ScalarFromJs(napi_env env, napi_value v, Scalar* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  Scalar& s = *out;
  switch (t) {
    case napi_undefined:
    case napi_null:
      s.kind = Scalar::Kind::kNone;
      return true;
    case napi_boolean:
      s.kind = Scalar::Kind::kBool;
      return napi_get_value_bool(env, v, &s.b) == napi_ok;
    case napi_number: {
      double d;
      napi_get_value_double(env, v, &d);
      // SPEC 9: an integral number (but -0) is a Python int, else a float.
      if (std::trunc(d) == d && std::fabs(d) <= kMaxSafe && !(d == 0 && std::signbit(d))) {
        s.kind = Scalar::Kind::kInt;
        s.i = static_cast<int64_t>(d);
      } else if (std::isfinite(d) && std::trunc(d) == d && !(d == 0 && std::signbit(d))) {
        return false;  // an integral double past 2^53: its exact int goes as wire bytes
      } else {
        s.kind = Scalar::Kind::kFloat;
        s.f = d;
      }
      return true;
    }
    case napi_string: {
      // UTF-16: lossless for every JS string, lone surrogates included.
      size_t len = 0;
      napi_get_value_string_utf16(env, v, nullptr, 0, &len);
      s.kind = Scalar::Kind::kStr;
      s.utf16 = true;
      s.s.resize(len * 2 + 2);
      napi_get_value_string_utf16(env, v, reinterpret_cast<char16_t*>(&s.s[0]), len + 1, &len);
      s.s.resize(len * 2);
      return true;
    }
    default:
      return false;
  }
}

bool ScalarsFromJs(napi_env env, napi_value array, std::vector<Scalar>* out) {
  uint32_t n = 0;
  if (napi_get_array_length(env, array, &n) != napi_ok) return false;
  out->resize(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    if (napi_get_element(env, array, i, &v) != napi_ok || !ScalarFromJs(env, v, &(*out)[i])) return false;
  }
  return true;
}

namespace {

// The memory of a TypedArray, DataView or ArrayBuffer; false for anything else.
bool BufferOf(napi_env env, napi_value v, void** data, size_t* size) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return false;
    static const size_t kSizes[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
    *size = length * (static_cast<size_t>(type) < 11 ? kSizes[type] : 1);
    return true;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    napi_value ab;
    size_t offset;
    return napi_get_dataview_info(env, v, size, data, &ab, &offset) == napi_ok;
  }
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
    return napi_get_arraybuffer_info(env, v, data, size) == napi_ok;
  }
  return false;
}

}  // namespace

bool SideFromJs(napi_env env, napi_value array, std::vector<SideBuffer>* out) {
  uint32_t n = 0;
  if (napi_get_array_length(env, array, &n) != napi_ok) return false;
  out->reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    if (napi_get_element(env, array, i, &v) != napi_ok) return false;
    SideBuffer side;
    void* data = nullptr;
    size_t size = 0;
    napi_value shared_view = nullptr;
    if (!BufferOf(env, v, &data, &size)) {
      // A Shared marker (src/shared.ts, frozen): its `view` is lent to
      // Python, held by a second ref that outlives the job.
      napi_valuetype t;
      if (napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
          napi_get_named_property(env, v, "view", &shared_view) != napi_ok ||
          !BufferOf(env, shared_view, &data, &size)) {
        ReleaseSide(env, out);
        return false;
      }
    }
    side.data = static_cast<const char*>(data);
    side.size = size;
    if (napi_create_reference(env, v, 1, &side.ref) != napi_ok) {
      ReleaseSide(env, out);
      return false;
    }
    if (shared_view) {
      napi_ref keep = nullptr;
      if (napi_create_reference(env, shared_view, 1, &keep) != napi_ok) {
        napi_delete_reference(env, side.ref);
        ReleaseSide(env, out);
        return false;
      }
      side.hold = std::make_shared<JsHold>(keep, env, data, size);
    }
    out->push_back(std::move(side));
  }
  return true;
}

void ReleaseSide(napi_env env, std::vector<SideBuffer>* side) {
  for (SideBuffer& s : *side) {
    if (s.ref) napi_delete_reference(env, s.ref);
    s.ref = nullptr;
    // No Python object kept the shared view (none made, or all gone): the
    // ref dies here. Otherwise the last Python owner hands it back.
    // (Only this job could copy `hold`, and it is done: the count can
    // only fall.)
    if (s.hold && s.hold.use_count() == 1 && s.hold->ref) {
      napi_delete_reference(env, s.hold->ref);
      s.hold->ref = nullptr;
    }
    s.hold.reset();
  }
  side->clear();
}

void RefReturn::DeleteAll(napi_env env) {
  std::vector<napi_ref> refs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    refs.swap(refs_);
  }
  for (napi_ref r : refs) napi_delete_reference(env, r);
}

napi_value ResultToJs(napi_env env, const JsHelpers& helpers, Job& job) {
  if (job.result_wire.empty()) return ScalarToJs(env, helpers, job.result);
  if (job.result_json) {
    // JSON text (native/py_json.h): decode() parses it. ASCII text makes a
    // one-byte string with no UTF-8 decoding.
    napi_value text = nullptr;
    const std::string& s = job.result_wire;
    napi_status status = job.result_ascii ? napi_create_string_latin1(env, s.data(), s.size(), &text)
                                          : napi_create_string_utf8(env, s.data(), s.size(), &text);
    if (status != napi_ok) return nullptr;
    return Call(env, helpers.decode, 1, &text);
  }
  napi_value argv[2];
  WireLoan loan = LendWire(env, &job.result_wire);
  argv[0] = loan.buffer;
  napi_create_array_with_length(env, job.exports.size(), &argv[1]);
  napi_value out = argv[0] ? argv[1] : nullptr;
  for (size_t i = 0; out && i < job.exports.size(); i++) {
    napi_value ab = ExportToJs(env, std::move(job.exports[i]));
    if (!ab) out = nullptr;
    if (out) napi_set_element(env, argv[1], static_cast<uint32_t>(i), ab);
  }
  job.exports.clear();
  if (out) out = Call(env, helpers.decode, 2, argv);
  EndLoan(env, loan, &job.result_wire);
  return out;
}

std::string JsUtf8(napi_env env, napi_value s) {
  // Attribute names are short: one call into a stack buffer, usually.
  char small[64];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, s, small, sizeof small, &len) == napi_ok && len < sizeof small - 4) {
    return std::string(small, len);
  }
  napi_get_value_string_utf8(env, s, nullptr, 0, &len);
  std::string out(len, '\0');
  napi_get_value_string_utf8(env, s, &out[0], len + 1, &len);
  return out;
}

void JsHelpers::Reset(napi_env env) {
  for (napi_ref* r : {&wrap, &make_error, &decode, &callback, &release_callback, &callback_sync, &callback_sync_plain, &callback_plain}) {
    if (*r) napi_delete_reference(env, *r);
    *r = nullptr;
  }
}

napi_value ErrorToJs(napi_env env, const JsHelpers& helpers, const ErrorInfo& e) {
  napi_value args[5], out = nullptr;
  napi_get_boolean(env, e.python, &args[0]);
  args[1] = Str(env, e.type_or_code);
  args[2] = Str(env, e.message);
  args[3] = Str(env, e.traceback);
  // links: [[type, message, traceback, ref id], ...] (makeError wraps the ids)
  napi_create_array_with_length(env, e.links.size(), &args[4]);
  for (size_t i = 0; i < e.links.size(); i++) {
    const ErrorLink& l = e.links[i];
    napi_value link;
    napi_create_array_with_length(env, 4, &link);
    napi_set_element(env, link, 0, Str(env, l.type));
    napi_set_element(env, link, 1, Str(env, l.message));
    napi_set_element(env, link, 2, Str(env, l.traceback));
    napi_value id;
    napi_create_double(env, static_cast<double>(l.ref), &id);
    napi_set_element(env, link, 3, id);
    napi_set_element(env, args[4], static_cast<uint32_t>(i), link);
  }
  out = Call(env, helpers.make_error, 5, args);
  if (!out) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    napi_create_error(env, nullptr, args[2], &out);
  }
  return out;
}

}  // namespace esem
