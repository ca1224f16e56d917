"""The wire format of docs/protocol.md in Python: `Decoder` reads the values
JS sends (JS -> Python layouts), `Encoder` writes Python values for JS
(Python -> JS layouts, with the registry's refs and type descriptions).
The mirror of native/py_wire_read.cc and py_wire_write.cc (which the worker
uses instead when its library is built: native_codec.py); the golden
fixtures test/golden/values.json hold all of them, and src/codec.ts, to
the same bytes.

Thread: the subprocess worker's main thread.
"""

import struct
import sys
from array import array as _array

from . import ops
from . import plain as _plain
from .failure import BridgeFailure

__all__ = ["BridgeFailure", "Decoder", "Encoder", "MAX_DEPTH"]

MAX_DEPTH = 256

# Tags (src/codec.ts, native/wire_tags.h).
NONE = 0
BOOL = 1
INT = 2
BIGINT = 3
FLOAT = 4
STR = 5
BYTES = 6
LIST = 7
DICT = 8
MAP = 9
SET = 10
DATE = 11
REF = 12
TYPED = 13
NDARRAY = 14
STR16 = 15
KEYREF = 16
JSFUNCTION = 17  # f64 id: a JS function (esem_bridge.callback.JsFunction), both ways
INT_LIST = 18  # u32 n, n i32: a list of ints that all fit in 32 bits
FLOAT_LIST = 19  # u32 n, n f64: a list of floats
JSON = 20  # u32 n, n bytes of UTF-8 JSON text of one value (the cold lane: read here, written by esem_wire only)

# Lists of at least this many ints, all within int32, are written as one
# INT_LIST, and of that many floats as one FLOAT_LIST (native/wire_tags.h
# kPackedMin); one of any length is read.
PACKED_MIN = 16
_LITTLE = sys.byteorder == "little"

_U32 = struct.Struct("<I")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_TAG_U32 = struct.Struct("<BI")
_TAG_I64 = struct.Struct("<Bq")
_TAG_F64 = struct.Struct("<Bd")
_REF_HEAD = struct.Struct("<BdIB")  # tag, id, typeIndex, described
_TYPED_HEAD = struct.Struct("<BI")  # format char, length (after the tag)
_REF_IN = struct.Struct("<dI")  # id, number of path names (after the tag)

_TOO_DEEP = "the result is nested too deeply to convert (a structure that contains itself?)"


def _malformed(what):
    return BridgeFailure("ESEM_INTERNAL", "malformed wire data: " + what)


# --- JS -> Python ----------------------------------------------------------


class Decoder(object):
    """Reads values one after another from `buf` (bytes) from `pos` on, up
    to `end` (default: the end of buf). One key table for everything read
    with this decoder (one frame).

    Malformed data (a length or count past the end, an unknown tag, a bad
    key reference or proxy id, nesting past MAX_DEPTH) raises BridgeFailure
    ESEM_INTERNAL "malformed wire data: ...", never IndexError or
    struct.error. Errors of the objects themselves (an attribute a proxy
    path names, a set item that is not hashable) propagate unchanged."""

    __slots__ = ("buf", "pos", "end", "registry", "keys")

    def __init__(self, buf, registry, pos=0, end=None):
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end
        self.registry = registry
        self.keys = []

    def value(self):
        start = self.pos
        if start >= self.end:
            raise _malformed("a value expected at byte %d, at the end of the data" % start)
        try:
            v, pos = _decode(self.buf, start, self.keys, self.registry, 0)
        except (struct.error, IndexError):
            raise _malformed("a value from byte %d runs past the end" % start) from None
        except UnicodeDecodeError as e:
            raise _malformed("a string from byte %d is not valid UTF-8 (%s)" % (start, e.reason)) from None
        except _ObjectError as e:
            error = e.error
        else:
            # Strings and ints are sliced, not checked one by one: a length
            # past the end shows here, as a position past the end.
            if pos > self.end:
                raise _malformed("a value from byte %d runs past the end" % start)
            self.pos = pos
            return v
        raise error  # outside the handler: no decoder exception in its context

    def at_end(self):
        return self.pos >= self.end


class _ObjectError(Exception):
    """Carries an exception of the user's objects (a proxy path's getattr)
    out of _decode, so that value() tells it from malformed data."""

    def __init__(self, error):
        Exception.__init__(self)
        self.error = error


_HEX_DIGITS = b"0123456789abcdef"


def _is_hex(digits):
    """Whether digits is -?[0-9a-f]+ (a check without the re module, whose
    import costs ~1.5 ms of every worker's start)."""
    body = bytes(digits[1:] if digits[:1] == b"-" else digits)
    return len(body) > 0 and not body.translate(None, _HEX_DIGITS)

_MAX_ID = float(2 ** 53 - 1)

_RELEASED = object()
_u32_from = _U32.unpack_from
_i64_from = _I64.unpack_from
_f64_from = _F64.unpack_from
_ref_in_from = _REF_IN.unpack_from
_typed_from = _TYPED_HEAD.unpack_from


def _key(buf, p, keys):
    tag = buf[p]
    if tag == KEYREF:
        i = _u32_from(buf, p + 1)[0]
        if i >= len(keys):
            raise _malformed("bad key reference")
        return keys[i], p + 5
    if tag == STR:
        n = _u32_from(buf, p + 1)[0]
        p += 5
        k = buf[p:p + n].decode()
    elif tag == STR16:
        n = _u32_from(buf, p + 1)[0] * 2
        p += 5
        k = buf[p:p + n].decode("utf-16-le", "surrogatepass")
    else:
        raise _malformed("a dict key that is not a string")
    keys.append(k)
    return k, p + n


_json_decoder = None
_TWO53 = 2 ** 53


def _json_number(text):
    # SPEC §9 as native/py_json_read.cc has it: an integral number (but
    # -0) is an int, exactly the double's value; else a float.
    if text.lstrip("-").isdigit():
        n = int(text)
        if -_TWO53 <= n <= _TWO53:
            return n
    d = float(text)
    if d - d == 0 and d == int(d) and (d != 0 or repr(d)[0] != "-"):  # finite, integral, not -0.0
        return int(d)
    return d


def _no_constant(name):
    raise ValueError("%s is not JSON" % name)


def _json_value(text, at):
    """A JSON value (a JSON tag's payload) by the rules of the C++ reader."""
    global _json_decoder
    if _json_decoder is None:
        import json  # only the pure-Python codec reads the cold lane here, and only when it is used

        _json_decoder = json.JSONDecoder(parse_float=_json_number, parse_int=_json_number, parse_constant=_no_constant)
    try:
        return _json_decoder.decode(text)
    except (ValueError, RecursionError) as e:
        raise _malformed("malformed JSON text at byte %d: %s" % (at, e)) from None


def _decode(buf, p, keys, reg, depth, u32_from=_u32_from, i64_from=_i64_from, f64_from=_f64_from):
    """(value, position after it) of the value at buf[p]. Containers read
    their str, int, float and None items inline (no call per item)."""
    tag = buf[p]
    if tag == STR:
        n = u32_from(buf, p + 1)[0]
        p += 5
        return buf[p:p + n].decode(), p + n
    if tag == INT:
        return i64_from(buf, p + 1)[0], p + 9
    if tag == LIST:
        n = u32_from(buf, p + 1)[0]
        p += 5
        if depth > MAX_DEPTH and n:  # one more: a call's argument list is not a level
            raise _malformed("nested more than %d levels deep" % MAX_DEPTH)
        out = []
        append = out.append
        d = depth + 1
        for _ in range(n):
            tag = buf[p]
            if tag == STR:
                m = u32_from(buf, p + 1)[0]
                p += 5
                append(buf[p:p + m].decode())
                p += m
            elif tag == INT:
                append(i64_from(buf, p + 1)[0])
                p += 9
            elif tag == FLOAT:
                append(f64_from(buf, p + 1)[0])
                p += 9
            elif tag == NONE:
                append(None)
                p += 1
            else:
                v, p = _decode(buf, p, keys, reg, d)
                append(v)
        return out, p
    if tag == NONE:
        return None, p + 1
    if tag == INT_LIST or tag == FLOAT_LIST:
        n = u32_from(buf, p + 1)[0]
        p += 5
        if depth > MAX_DEPTH and n:
            raise _malformed("nested more than %d levels deep" % MAX_DEPTH)
        items = _array("i" if tag == INT_LIST else "d")
        size = items.itemsize * n
        raw = buf[p:p + size]
        if len(raw) != size:
            raise _malformed("a list of %d numbers runs past the end" % n)
        items.frombytes(raw)
        if not _LITTLE:
            items.byteswap()
        return items.tolist(), p + size
    if tag == FLOAT:
        return f64_from(buf, p + 1)[0], p + 9
    if tag == DICT:
        n = u32_from(buf, p + 1)[0]
        p += 5
        if depth > MAX_DEPTH and n:  # one more: a call's argument list is not a level
            raise _malformed("nested more than %d levels deep" % MAX_DEPTH)
        out = {}
        d = depth + 1
        for _ in range(n):
            tag = buf[p]
            if tag == KEYREF:
                i = u32_from(buf, p + 1)[0]
                if i >= len(keys):
                    raise _malformed("bad key reference")
                k = keys[i]
                p += 5
            elif tag == STR:
                m = u32_from(buf, p + 1)[0]
                p += 5
                k = buf[p:p + m].decode()
                keys.append(k)
                p += m
            else:
                k, p = _key(buf, p, keys)
            tag = buf[p]
            if tag == STR:
                m = u32_from(buf, p + 1)[0]
                p += 5
                out[k] = buf[p:p + m].decode()
                p += m
            elif tag == INT:
                out[k] = i64_from(buf, p + 1)[0]
                p += 9
            elif tag == FLOAT:
                out[k] = f64_from(buf, p + 1)[0]
                p += 9
            elif tag == NONE:
                out[k] = None
                p += 1
            else:
                out[k], p = _decode(buf, p, keys, reg, d)
        return out, p
    if tag == BOOL:
        return buf[p + 1] != 0, p + 2
    if tag == REF:
        ref_id, n = _ref_in_from(buf, p + 1)
        if not (0.0 <= ref_id <= _MAX_ID) or ref_id != int(ref_id):
            raise _malformed("a proxy id that is not a registry id at byte %d" % p)
        if depth > MAX_DEPTH:
            raise _malformed("nested more than %d levels deep" % MAX_DEPTH)
        p += 13
        obj = reg.objects.get(int(ref_id), _RELEASED)
        if obj is _RELEASED:
            raise BridgeFailure("ESEM_RELEASED", "a proxy passed as an argument was released; its Python object is gone")
        for _ in range(n):
            name, p = _decode(buf, p, keys, reg, depth + 1)
            if type(name) is not str:
                raise _malformed("a proxy path name that is not a string")
            if p > len(buf):
                raise IndexError  # the name was cut short: never look it up
            try:
                obj = getattr(obj, name)
            except BaseException as e:
                raise _ObjectError(e)
        return obj, p
    if tag == STR16:
        n = _u32_from(buf, p + 1)[0] * 2
        p += 5
        return buf[p:p + n].decode("utf-16-le", "surrogatepass"), p + n
    if tag == BYTES:
        n = _u32_from(buf, p + 1)[0]
        p += 5
        if p + n > len(buf):
            raise _malformed("truncated")
        return buf[p:p + n], p + n
    if tag == BIGINT:
        n = _u32_from(buf, p + 1)[0]
        p += 5
        digits = buf[p:p + n]
        if not _is_hex(digits):
            if p + n > len(buf):
                raise IndexError
            raise _malformed("a bigint at byte %d that is not hex digits" % (p - 5))
        return int(digits, 16), p + n
    if tag == MAP or tag == SET:
        n = _u32_from(buf, p + 1)[0]
        p += 5
        if depth > MAX_DEPTH and n:  # one more: a call's argument list is not a level
            raise _malformed("nested more than %d levels deep" % MAX_DEPTH)
        d = depth + 1
        # Hashing runs the items' own code (a proxy's __hash__): its errors
        # are the call's, not malformed data.
        if tag == SET:
            out = set()
            add = out.add
            for _ in range(n):
                v, p = _decode(buf, p, keys, reg, d)
                try:
                    add(v)
                except BaseException as e:
                    raise _ObjectError(e)
            return out, p
        out = {}
        for _ in range(n):
            k, p = _decode(buf, p, keys, reg, d)
            v, p = _decode(buf, p, keys, reg, d)
            try:
                out[k] = v
            except BaseException as e:
                raise _ObjectError(e)
        return out, p
    if tag == DATE:
        return ops.datetime_from_ms(_f64_from(buf, p + 1)[0]), p + 9
    if tag == TYPED:
        fmt, n = _typed_from(buf, p + 1)
        p += 6
        if p + n > len(buf):
            raise _malformed("truncated")
        return ops.typed_view(buf[p:p + n], chr(fmt)), p + n
    if tag == NDARRAY:
        return _ndarray(buf, p + 1, keys, reg, depth)
    if tag == JSON:
        n = u32_from(buf, p + 1)[0]
        p += 5
        if p + n > len(buf):
            raise _malformed("JSON text from byte %d runs past the end" % (p - 5))
        return _json_value(buf[p:p + n].decode(), p - 5), p + n
    if tag == JSFUNCTION:
        table = reg.callbacks
        if table is None:
            raise _malformed("a JS function, but this registry has no callback table")
        fn_id = _f64_from(buf, p + 1)[0]
        if not (0.0 < fn_id <= _MAX_ID) or fn_id != int(fn_id):
            raise _malformed("a JS function id that is not one at byte %d" % p)
        return table.function(int(fn_id)), p + 9
    raise _malformed("unknown tag %d at byte %d" % (tag, p))


def _ndarray(buf, p, keys, reg, depth):
    """A TypedArray with a shape (tag NdArray from its element code on):
    esem_bridge.ops.ndarray_from's array."""
    code, p = _decode(buf, p, keys, reg, depth + 1)
    dtype, p = _decode(buf, p, keys, reg, depth + 1)
    if type(code) is not str or type(dtype) is not str:
        raise _malformed("an ndarray whose element code or dtype is not a string")
    if code not in _plain.CODES:
        raise _malformed("an ndarray with the unknown element code %r" % code)
    ndim = _u32_from(buf, p)[0]
    p += 4
    if ndim > 64:
        raise _malformed("an ndarray of %d dimensions" % ndim)
    shape = []
    for _ in range(ndim):
        n = _f64_from(buf, p)[0]
        if not (0.0 <= n <= _MAX_ID) or n != int(n):
            raise _malformed("an ndarray dimension that is not a count")
        shape.append(int(n))
        p += 8
    n = _u32_from(buf, p)[0]
    p += 4
    if p + n > len(buf):
        raise _malformed("truncated")
    count = 1
    for d in shape:
        count *= d
    if count * _plain.CODES[code][1] != n:
        raise _malformed("an ndarray of %d bytes for shape %r of %s" % (n, tuple(shape), code))
    try:
        return ops.ndarray_from(buf[p:p + n], code, dtype, shape), p + n
    except BaseException as e:
        raise _ObjectError(e)


# --- Python -> JS ----------------------------------------------------------


class Encoder(object):
    """Writes Python values in the wire format. Objects with no value form
    are registered in `registry` and sent as Refs; a failed encode removes
    what it registered and the type indices it gave out."""

    __slots__ = ("registry", "_value")

    def __init__(self, registry):
        self.registry = registry
        self._value = _make_value(registry)

    def encode(self, obj, out=None, as_ref=False):
        """Appends obj's wire form to `out` (a bytearray, new if None) and
        returns out; as_ref: obj as a Ref whatever it is (a call asked for a
        proxy: opts({ result: "proxy" })). One key table per call (per
        message). On failure out is as it was, and the exception propagates."""
        if out is None:
            out = bytearray()
        start = len(out)
        registry = self.registry
        first_id = registry.next_id
        mark = len(registry.types)
        try:
            if as_ref:
                self._value.ref(obj, out)
            else:
                self._value(obj, 0, out, {})
        except BaseException:
            del out[start:]
            registry.remove_from(first_id)
            registry.truncate_types(mark)
            raise
        return out


def _write_str(s, out):
    """A str (or subclass) as Str, or Str16 when it has lone surrogates."""
    try:
        b = str.encode(s, "utf-8")
    except UnicodeEncodeError:
        b = str.encode(s, "utf-16-le", "surrogatepass")
        out += _TAG_U32.pack(STR16, len(b) >> 1)
        out += b
        return
    out += _TAG_U32.pack(STR, len(b))
    out += b


def _make_value(registry):
    """The recursive encoder, bound to one registry (locals and closure
    variables only in the hot path)."""
    pack_tu32 = _TAG_U32.pack
    pack_ti64 = _TAG_I64.pack
    pack_tf64 = _TAG_F64.pack
    pack_u32 = _U32.pack
    pack_f64 = _F64.pack
    pack_ref = _REF_HEAD.pack
    struct_error = struct.error
    write_str = _write_str
    describe = ops.describe
    plain_form = ops.plain_form
    typed_codes = _plain.CODES
    keep_types = set()  # types plain_form said every instance of is a proxy
    type_index = registry.type_index
    add_type = registry.add_type
    add_ref = registry.add
    bool_bytes = (b"\x01\x00", b"\x01\x01")
    from .callback import JsFunction as js_function_type
    str_str = str.__str__

    def write_int(n, out):  # n: an exact int
        try:
            out += pack_ti64(INT, n)
        except struct_error:
            h = format(n, "x").encode("ascii")
            out += pack_tu32(BIGINT, len(h))
            out += h

    def write_items(items, depth, out, keys):
        d = depth + 1
        if d > MAX_DEPTH and items:
            out += pack_tu32(LIST, len(items))
            raise ValueError(_TOO_DEEP)
        if len(items) >= PACKED_MIN:
            first = type(items[0])
            if first is int and all(type(x) is int for x in items):
                try:
                    packed = _array("i", items)
                except OverflowError:
                    packed = None  # past int32: a List of Int and BigInt
                tag = INT_LIST
            elif first is float and all(type(x) is float for x in items):
                packed = _array("d", items)
                tag = FLOAT_LIST
            else:
                packed = None
            if packed is not None:
                if not _LITTLE:
                    packed.byteswap()
                out += pack_tu32(tag, len(items))
                out += packed.tobytes()
                return
        out += pack_tu32(LIST, len(items))
        for x in items:
            # str, int, float and None inline: no call per item.
            t = type(x)
            if t is str:
                try:
                    b = x.encode()
                except UnicodeEncodeError:
                    value(x, d, out, keys)
                    continue
                out += pack_tu32(STR, len(b))
                out += b
            elif t is int:
                try:
                    out += pack_ti64(INT, x)
                except struct_error:
                    write_int(x, out)
            elif t is float:
                out += pack_tf64(FLOAT, x)
            elif x is None:
                out.append(NONE)
            else:
                value(x, d, out, keys)

    def write_dict(names, items, n, depth, out, keys):
        d = depth + 1
        for k in names:
            if type(k) is not str and not isinstance(k, str):
                # Map: keys are plain values, no key table.
                out += pack_tu32(MAP, n)
                for k, v in items:
                    value(k, d, out, keys)
                    value(v, d, out, keys)
                return
        out += pack_tu32(DICT, n)
        if d > MAX_DEPTH and n:
            raise ValueError(_TOO_DEEP)
        for k, v in items:
            if type(k) is not str:
                k = str_str(k)
            ref = keys.get(k)
            if ref is None:
                keys[k] = pack_tu32(KEYREF, len(keys))  # the key's KeyRef, ready for its next use
                try:
                    b = k.encode()
                except UnicodeEncodeError:
                    b = k.encode("utf-16-le", "surrogatepass")
                    out += pack_tu32(STR16, len(b) >> 1)
                    out += b
                else:
                    out += pack_tu32(STR, len(b))
                    out += b
            else:
                out += ref
            t = type(v)
            if t is str:
                try:
                    b = v.encode()
                except UnicodeEncodeError:
                    value(v, d, out, keys)
                    continue
                out += pack_tu32(STR, len(b))
                out += b
            elif t is int:
                try:
                    out += pack_ti64(INT, v)
                except struct_error:
                    write_int(v, out)
            elif t is float:
                out += pack_tf64(FLOAT, v)
            elif v is None:
                out.append(NONE)
            else:
                value(v, d, out, keys)

    def write_buffer(o, out):
        view = memoryview(o)  # the buffer protocol, as PyObject_GetBuffer; never a subclass's __radd__
        if not view.c_contiguous:
            raise BufferError("memoryview: underlying buffer is not C-contiguous")
        out += pack_tu32(BYTES, view.nbytes)
        out += view

    def write_ref(o, out):
        t = type(o)
        index = type_index.get(t)
        if index is not None:
            out += pack_ref(REF, add_ref(o), index, 0)
            return
        d = describe(o)
        if type(d) is not tuple or len(d) != 8:
            raise TypeError("esem_bridge.ops.describe returned a bad description")
        cacheable, kind, type_name, members, has_release, is_callable, iterable, callables = d
        members = tuple(members)
        if type(callables) is not bytes or len(callables) != (len(members) + 7) // 8:
            raise TypeError("esem_bridge.ops.describe returned a bad description")
        index = add_type(t) if cacheable is True else 0
        out += pack_ref(REF, add_ref(o), index, 1)
        write_str(kind, out)
        write_str(type_name, out)
        out += pack_u32(len(members))
        for m in members:
            write_str(m, out)
        out.append(1 if has_release is True else 0)
        out.append(1 if is_callable is True else 0)
        out.append(1 if iterable is True else 0)
        out += callables

    def write_ndarray(parts, out):
        array, code, dtype_name, shape = parts
        if code not in typed_codes or type(dtype_name) is not str:
            raise TypeError("esem_bridge.ops.plain_form returned a bad typed array form")
        view = memoryview(array)
        if not view.c_contiguous:
            raise BufferError("a typed array's buffer is not C-contiguous")
        out.append(NDARRAY)
        write_str(code, out)
        write_str(dtype_name, out)
        out += pack_u32(len(shape))
        for n in shape:
            out += pack_f64(n)
        out += pack_u32(view.nbytes)
        out += view

    def other(o, t, depth, out, keys):
        # The exact builtins value() does not write inline, then plain_form
        # (esem_bridge.plain) for everything else, as the native encoder.
        if t is bytearray:
            return write_buffer(o, out)
        if t is set or t is frozenset:
            return write_set(o, depth, out, keys)
        if t is js_function_type and o._table is registry.callbacks and o._table is not None:
            out += pack_tf64(JSFUNCTION, o._id)  # the JS function itself goes back
            return
        if t in keep_types:
            return write_ref(o, out)
        form = plain_form(o)
        if type(form) is not tuple or len(form) != 2:
            raise TypeError("esem_bridge.ops.plain_form returned a bad form")
        kind, v = form
        if kind == 0:
            if v is True:
                if len(keep_types) >= 4096:  # classes made at run time must not pile up
                    keep_types.clear()
                keep_types.add(t)
            return write_ref(o, out)
        if kind == 1:
            if v is o:
                raise TypeError("esem_bridge.ops.plain_form returned the object itself")
            return value(v, depth + 1, out, keys)
        if kind == 2:
            return write_ndarray(v, out)
        if kind == 3:
            out += pack_tf64(DATE, v)
            return
        if kind == 4:
            return write_buffer(v, out)
        raise TypeError("esem_bridge.ops.plain_form returned an unknown kind %r" % (kind,))

    def write_set(o, depth, out, keys):
        items = list(o)
        out += pack_tu32(SET, len(items))
        d = depth + 1
        if d > MAX_DEPTH and items:
            raise ValueError(_TOO_DEEP)
        for x in items:
            value(x, d, out, keys)

    def value(o, depth, out, keys):
        if depth > MAX_DEPTH:
            raise ValueError(_TOO_DEEP)
        t = type(o)
        if t is str:
            try:
                b = o.encode()
            except UnicodeEncodeError:
                b = o.encode("utf-16-le", "surrogatepass")
                out += pack_tu32(STR16, len(b) >> 1)
                out += b
                return
            out += pack_tu32(STR, len(b))
            out += b
        elif t is int:
            try:
                out += pack_ti64(INT, o)
            except struct_error:
                write_int(o, out)
        elif t is float:
            out += pack_tf64(FLOAT, o)
        elif o is None:
            out.append(NONE)
        elif t is bool:
            out += bool_bytes[o]
        elif t is dict:
            write_dict(o, o.items(), len(o), depth, out, keys)
        elif t is list:
            write_items(o[:], depth, out, keys)
        elif t is tuple:
            write_items(o, depth, out, keys)
        elif t is bytes:
            out += pack_tu32(BYTES, len(o))
            out += o
        else:
            other(o, t, depth, out, keys)

    value.ref = write_ref  # Encoder.encode(..., as_ref=True)
    return value
