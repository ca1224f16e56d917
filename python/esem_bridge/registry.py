"""Registry of the subprocess worker: ref id -> live Python object, and the
type-description cache (type -> 1-based typeIndex). The same rules as
native/registry.h and the native encoder's type cache: ids start at 1 (or
where the bridge says: a restarted worker goes on after its predecessor's
ids, so they are unique for the bridge's life) and are never reused; a type
gets an index the first time a cacheable object of it is described.

Thread: any, under the worker's codec lock (worker.py).
"""


class Registry(object):
    __slots__ = ("objects", "next_id", "type_index", "types", "callbacks")

    def __init__(self, first_id=1):
        self.objects = {}  # id -> object
        self.next_id = first_id
        self.type_index = {}  # type -> 1-based index
        self.types = []  # types in index order (index i + 1); holds them alive as the native cache does
        # The bridge's callback.CallbackTable (JS functions sent to Python),
        # set before a codec is made over this registry: both codecs read it
        # (tag 17, JsFunction).
        self.callbacks = None

    def add(self, obj):
        ref_id = self.next_id
        self.next_id = ref_id + 1
        self.objects[ref_id] = obj
        return ref_id

    def remove(self, ref_id):
        """Drops ref_id; False when it was not registered."""
        return self.objects.pop(ref_id, _MISSING) is not _MISSING

    def remove_from(self, first):
        """Drops every id from `first` on (undoes a failed conversion)."""
        pop = self.objects.pop
        for ref_id in range(first, self.next_id):
            pop(ref_id, None)

    def __len__(self):
        return len(self.objects)

    # --- type descriptions -------------------------------------------------

    def add_type(self, t):
        """Gives type t the next 1-based index."""
        self.types.append(t)
        index = len(self.types)
        self.type_index[t] = index
        return index

    def truncate_types(self, mark):
        """Forgets the types indexed from `mark` on: their description never
        reached JS (the message carrying it was dropped)."""
        types = self.types
        while len(types) > mark:
            self.type_index.pop(types.pop(), None)


_MISSING = object()
