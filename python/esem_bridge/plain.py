"""The value form of Python objects that are not exact builtins, one rule
for both encoders (native/py_wire_write.cc and codec.py): `plain_form(obj)`,
and its reverse for arrays, `ndarray_from(data, code, dtype, shape)`.
Rules: docs/types.md. numpy is used only when Python code already imported
it (looked up in sys.modules, never imported here).

Thread: called with the GIL held, from the thread that encodes or decodes.
"""

import struct
import sys

__all__ = ["plain_form", "ndarray_from", "datetime_to_ms", "datetime_from_ms", "KEEP", "KEEP_TYPE"]

# The forms: (kind, value). See plain_form.
KEEP = (0, False)  # a proxy, this object only
KEEP_TYPE = (0, True)  # a proxy, and so is every instance of its type
_VALUE, _ARRAY, _DATE, _BYTES = 1, 2, 3, 4

# datetime is imported at the first date that crosses, not at start-up
# (~1.3 ms of every start): until then no value can be one of its types.
_dt = _EPOCH = _UTC = _MS = None
_ALL = slice(None)
_MAX_HANDLERS = 4096  # types remembered (classes made at run time must not pile up)

# Element code -> (struct format, itemsize, dtype name of that element).
CODES = {
    "f64": ("d", 8, "float64"), "f32": ("f", 4, "float32"),
    "i64": ("q", 8, "int64"), "u64": ("Q", 8, "uint64"),
    "i32": ("i", 4, "int32"), "u32": ("I", 4, "uint32"),
    "i16": ("h", 2, "int16"), "u16": ("H", 2, "uint16"),
    "i8": ("b", 1, "int8"), "u8": ("B", 1, "uint8"),
}
# numpy dtype (kind, itemsize) or struct letter class -> element code.
_INT_CODES = {8: "i64", 4: "i32", 2: "i16", 1: "i8"}
_UINT_CODES = {8: "u64", 4: "u32", 2: "u16", 1: "u8"}
_FLOAT_CODES = {8: "f64", 4: "f32"}
_SIGNED_LETTERS = frozenset("bhilqn")
_UNSIGNED_LETTERS = frozenset("BHILQN")
_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"


def plain_form(obj):
    """(kind, value) for an object that is not an exact None, bool, int,
    float, str, bytes, bytearray, list, tuple, dict, set or frozenset:

    (0, cache)  send a proxy; cache True: so is every instance of type(obj)
    (1, value)  send value instead, by the same rules (never obj itself)
    (2, (buffer, code, dtype, shape))  a typed array: buffer C-contiguous,
                native byte order; code a key of CODES; shape a tuple of ints
    (3, ms)     a Date, epoch milliseconds (float)
    (4, buffer) bytes, from any buffer-protocol object

    One dict lookup by type for types seen before; the first object of a
    type is classified by its type's place in the class hierarchy."""
    t = type(obj)
    try:
        handler = _handlers.get(t)
    except TypeError:  # a metaclass without __hash__
        return KEEP
    if handler is None:
        handler = _classify(t)
        if len(_handlers) >= _MAX_HANDLERS:
            _reset_handlers()
        _handlers[t] = handler
    return handler(obj)


# --- one handler per kind of type -------------------------------------------


def _keep_type(obj):
    return KEEP_TYPE


def _enum_value(obj):
    return (_VALUE, obj._value_)


def _int_base(obj):
    return (_VALUE, int.__int__(obj))


def _float_base(obj):
    return (_VALUE, float.__float__(obj))


def _str_base(obj):
    return (_VALUE, str.__str__(obj))


def _bytes_base(obj):
    return (_VALUE, bytes.__getitem__(obj, _ALL))


def _bytearray_base(obj):
    return (_VALUE, bytearray.copy(obj))


def _list_base(obj):
    return (_VALUE, list.copy(obj))  # the items themselves: a subclass's __iter__ is not used


def _tuple_base(obj):
    return (_VALUE, tuple.__getitem__(obj, _ALL))


def _dict_base(obj):
    # dict.items reads the table: a subclass's items(), keys() and __iter__
    # are not used (dict.copy would call an overridden keys()).
    return (_VALUE, dict(dict.items(obj)))


def _set_base(obj):
    return (_VALUE, set(iter(obj)))  # through the subclass's __iter__, as the native encoder


def _frozenset_base(obj):
    return (_VALUE, frozenset(iter(obj)))


def _decimal(obj):
    return (_VALUE, str(obj))


def _complex(obj):
    return (_VALUE, {"real": float(complex.real.__get__(obj)), "imag": float(complex.imag.__get__(obj))})


def _load_datetime():
    global _dt, _EPOCH, _UTC, _MS
    import datetime

    _UTC = datetime.timezone.utc
    _EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
    _MS = datetime.timedelta(milliseconds=1)
    _dt = datetime
    return datetime


def datetime_to_ms(value):
    """Epoch milliseconds of a datetime; a naive one is read as UTC."""
    if _dt is None:
        _load_datetime()
    if value.tzinfo is None:
        value = _dt.datetime.replace(value, tzinfo=_UTC)
    return (value - _EPOCH) / _MS


def datetime_from_ms(ms):
    """The aware UTC datetime of epoch milliseconds (a JS Date)."""
    if _dt is None:
        _load_datetime()
    return _EPOCH + _dt.timedelta(milliseconds=ms)


def _datetime(obj):
    return (_DATE, datetime_to_ms(obj))


def _date(obj):
    return (_VALUE, _dt.date.isoformat(obj))


def _time(obj):
    return (_VALUE, _dt.time.isoformat(obj))


def _timedelta(obj):
    return (_VALUE, _dt.timedelta.__truediv__(obj, _MS))


def _memoryview(view):
    fmt = view.format
    if fmt in ("B", "c"):
        return (_BYTES, view if view.c_contiguous else view.tobytes())
    return _typed(view, fmt, view.itemsize, tuple(view.shape))


def _array(arr):
    fmt = arr.typecode
    if fmt == "B":
        return (_BYTES, arr)
    if fmt in ("u", "w"):  # characters
        return (_VALUE, arr.tounicode())
    return _typed(memoryview(arr), fmt, arr.itemsize, (len(arr),))


def _typed(view, fmt, itemsize, shape):
    """A typed array from a buffer of struct format `fmt`; raw bytes for a
    format no TypedArray holds (structs, pointers, complex)."""
    if fmt[:1] in ("@", "=", "<", ">", "!"):
        order, letter = fmt[0], fmt[1:]
    else:
        order, letter = "@", fmt
    if order == "!":
        order = ">"
    swap = order in ("<", ">") and order != _NATIVE_ORDER
    dtype = None
    if letter in _SIGNED_LETTERS:
        code = _INT_CODES.get(itemsize)
    elif letter in _UNSIGNED_LETTERS:
        code = _UINT_CODES.get(itemsize)
    elif letter in ("f", "d"):
        code = _FLOAT_CODES.get(itemsize)
    elif letter == "?":
        code, dtype = "u8", "bool"
    elif letter == "e" and itemsize == 2:  # half floats go as float32, as numpy's float16
        return (_ARRAY, (_floats32(view, order), "f32", "float16", shape))
    else:
        code = None
    if code is None:
        return (_BYTES, view if view.c_contiguous else view.tobytes())
    if swap and itemsize > 1:
        data = _swapped(view, CODES[code][0])
    elif view.c_contiguous:
        data = view
    else:
        data = view.tobytes()
    return (_ARRAY, (data, code, dtype or CODES[code][2], shape))


def _swapped(view, fmt):
    import array

    items = array.array(fmt)
    items.frombytes(view.tobytes())
    items.byteswap()
    return memoryview(items)


def _floats32(view, order):
    """Half floats as an array of float32 (memoryview cannot read 'e')."""
    import array

    data = view.tobytes()
    n = len(data) // 2
    prefix = "=" if order == "@" else order
    return array.array("f", struct.unpack("%s%de" % (prefix, n), data))


def _ndarray(arr):
    numpy = sys.modules["numpy"]
    dtype = arr.dtype
    kind = dtype.kind
    size = dtype.itemsize
    if kind == "f":
        code = _FLOAT_CODES.get(size)
        if size == 2:
            arr = arr.astype(numpy.float32)
            code = "f32"
    elif kind == "i":
        code = _INT_CODES.get(size)
    elif kind == "u":
        code = _UINT_CODES.get(size)
    elif kind == "b":
        code = "u8"
        arr = arr.view(numpy.uint8)
    else:
        code = None
    if code is None:
        return KEEP  # complex, strings, objects, datetimes, structs: a proxy
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if not arr.flags.c_contiguous:
        arr = numpy.ascontiguousarray(arr)
    return (_ARRAY, (arr, code, dtype.name, tuple(int(n) for n in arr.shape)))


_SCALAR_ITEMS = frozenset((int, float, bool, str, bytes))


def _numpy_scalar(obj):
    item = obj.item()
    # A numeric scalar's item() is a builtin; others (datetime64 in days,
    # complex, void) stay proxies: their item() need not be simpler.
    if type(item) in _SCALAR_ITEMS:
        return (_VALUE, item)
    return KEEP


# --- classification, once per type ------------------------------------------


def _classify(t):
    """The handler for every instance of t (which is not an exact builtin)."""
    modules = sys.modules
    enum = modules.get("enum")
    if enum is not None and issubclass(t, enum.Enum):
        return _enum_value
    numpy = modules.get("numpy")
    if numpy is not None:
        ndarray = getattr(numpy, "ndarray", None)
        generic = getattr(numpy, "generic", None)
        if isinstance(ndarray, type) and issubclass(t, ndarray):
            return _ndarray
        if isinstance(generic, type) and issubclass(t, generic):
            return _numpy_scalar
    if issubclass(t, tuple):
        if hasattr(t, "_fields"):
            return _keep_type  # a named tuple: a proxy (to_plain gives a dict)
        return _tuple_base
    for base, handler in _BASES:
        if issubclass(t, base):
            return handler
    if "datetime" in modules or "_datetime" in modules:  # datetime before date
        dt = _dt or _load_datetime()
        for base, handler in ((dt.datetime, _datetime), (dt.date, _date), (dt.time, _time), (dt.timedelta, _timedelta)):
            if issubclass(t, base):
                return handler
    decimal = modules.get("decimal")
    if decimal is not None and issubclass(t, getattr(decimal, "Decimal", ())):
        return _decimal
    arr = modules.get("array")
    if arr is not None and issubclass(t, getattr(arr, "array", ())):
        return _array
    return _keep_type


# In order: bool before int, datetime before date.
_BASES = (
    (int, _int_base),
    (float, _float_base),
    (str, _str_base),
    (bytes, _bytes_base),
    (bytearray, _bytearray_base),
    (list, _list_base),
    (dict, _dict_base),
    (set, _set_base),
    (frozenset, _frozenset_base),
    (complex, _complex),
    (memoryview, _memoryview),
)

# Seen before any classification (_classify gives the same handlers).
_SEED = {
    memoryview: _memoryview,
    complex: _complex,
}
_handlers = dict(_SEED)


def _reset_handlers():
    _handlers.clear()
    _handlers.update(_SEED)


# --- JS -> Python: a TypedArray with a shape --------------------------------


def ndarray_from(data, code, dtype, shape):
    """The Python value of a JS TypedArray that carries a `shape` (tag
    NdArray): a writable numpy array of that shape and dtype when numpy is
    imported, else a memoryview of that format and shape (1-D when the
    shape has a 0, which memoryview.cast refuses)."""
    spec = CODES.get(code)
    if spec is None:
        raise ValueError("unknown element code %r" % (code,))
    fmt, itemsize, element = spec
    shape = tuple(int(n) for n in shape)
    count = 1
    for n in shape:
        if n < 0:
            raise ValueError("a negative dimension in shape %r" % (shape,))
        count *= n
    if count * itemsize != len(data):
        raise ValueError("%d bytes do not hold shape %r of %s" % (len(data), shape, code))
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        # The native reader passes a fresh bytearray: numpy writes into it, no copy.
        buf = data if type(data) is bytearray else bytearray(data)
        arr = numpy.frombuffer(buf, dtype=element).reshape(shape)
        if dtype != element:
            target = _numpy_dtype(numpy, dtype)
            if target is not None:
                arr = arr.astype(target)
        return arr
    view = memoryview(data if type(data) is bytes else bytes(data))
    if count == 0:
        return view.cast(fmt)
    return view.cast("B").cast(fmt, shape)


def _numpy_dtype(numpy, name):
    """numpy's dtype of that name when it is numeric, else None (the
    element type is kept)."""
    try:
        target = numpy.dtype(name)
    except (TypeError, ValueError):
        return None
    return target if target.kind in "biuf" else None
