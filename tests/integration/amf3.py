"""AMF3 (Adobe's AMF 3 specification, 2013), encoder and decoder, for test clients that speak as
Flash Player does with objectEncoding 3: values switched to AMF3 inside AMF0 (the 0x11
"avmplus" marker) in commands (type 17) and data messages (type 15). Strings, objects and traits
go through their reference tables both ways, so a repeated string or object is sent as a
reference, as Flash sends it.

Python values: None (null), UNDEFINED, bool, int (29-bit: integer, else double), float, str,
list (dense array), Assoc (array with named members), dict (anonymous dynamic object),
Typed (object with a class name and sealed members), bytes (ByteArray), Date.
"""

import struct

from rtmp_client import UNDEFINED, RawAmf

INT_MIN, INT_MAX = -(1 << 28), (1 << 28) - 1


class Assoc(dict):
    """An AMF3 array with named members (and `dense` values first)."""

    def __init__(self, *args, dense=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.dense = list(dense)


class Typed:
    """An object of a named class with sealed members (in order) and dynamic ones."""

    def __init__(self, class_name, sealed, dynamic=None):
        self.class_name, self.sealed, self.dynamic = class_name, dict(sealed), dict(dynamic or {})

    def __eq__(self, other):
        return isinstance(other, Typed) and (self.class_name, self.sealed, self.dynamic) == (
            other.class_name, other.sealed, other.dynamic)

    def __repr__(self):
        return "Typed(%r, %r, %r)" % (self.class_name, self.sealed, self.dynamic)


class Date:
    def __init__(self, ms):
        self.ms = ms

    def __eq__(self, other):
        return isinstance(other, Date) and other.ms == self.ms

    def __repr__(self):
        return "Date(%r)" % self.ms


def u29(n):
    n &= 0x1FFFFFFF
    if n < 0x80:
        return bytes([n])
    if n < 0x4000:
        return bytes([(n >> 7) | 0x80, n & 0x7F])
    if n < 0x200000:
        return bytes([(n >> 14) | 0x80, ((n >> 7) & 0x7F) | 0x80, n & 0x7F])
    return bytes([(n >> 22) | 0x80, ((n >> 15) & 0x7F) | 0x80, ((n >> 8) & 0x7F) | 0x80, n & 0xFF])


class Encoder:
    """One encoder per message body: the reference tables last as long as it does."""

    def __init__(self):
        self.strings, self.objects, self.traits = {}, {}, {}

    def string(self, s):
        if s == "":
            return b"\x01"  # the empty string is never a reference
        if s in self.strings:
            return u29(self.strings[s] << 1)
        self.strings[s] = len(self.strings)
        data = s.encode("utf-8")
        return u29(len(data) << 1 | 1) + data

    def _reference(self, value):
        """The reference to `value` if it was sent before in this body, else None (and it is
        entered in the table)."""
        key = id(value)
        if key in self.objects:
            return u29(self.objects[key][0] << 1)
        self.objects[key] = (len(self.objects), value)  # keeps value alive: ids stay unique
        return None

    def value(self, v):
        if v is UNDEFINED:
            return b"\x00"
        if v is None:
            return b"\x01"
        if v is False:
            return b"\x02"
        if v is True:
            return b"\x03"
        if isinstance(v, int) and INT_MIN <= v <= INT_MAX:
            return b"\x04" + u29(v)
        if isinstance(v, (int, float)):
            return b"\x05" + struct.pack(">d", float(v))
        if isinstance(v, str):
            return b"\x06" + self.string(v)
        if isinstance(v, Date):
            return b"\x08" + (self._reference(v) or b"\x01" + struct.pack(">d", float(v.ms)))
        if isinstance(v, (bytes, bytearray)):
            return b"\x0c" + (self._reference(v) or u29(len(v) << 1 | 1) + bytes(v))
        if isinstance(v, Assoc):
            ref = self._reference(v)
            if ref:
                return b"\x09" + ref
            out = b"\x09" + u29(len(v.dense) << 1 | 1)
            for k, item in v.items():
                out += self.string(k) + self.value(item)
            return out + b"\x01" + b"".join(self.value(item) for item in v.dense)
        if isinstance(v, (list, tuple)):
            ref = self._reference(v)
            if ref:
                return b"\x09" + ref
            return b"\x09" + u29(len(v) << 1 | 1) + b"\x01" + b"".join(self.value(item) for item in v)
        if isinstance(v, (dict, Typed)):
            ref = self._reference(v)
            if ref:
                return b"\x0a" + ref
            name, sealed, dynamic = ("", {}, v) if isinstance(v, dict) else (v.class_name, v.sealed, v.dynamic)
            shape = (name, tuple(sealed))
            if shape in self.traits:
                out = b"\x0a" + u29(self.traits[shape] << 2 | 1)  # traits by reference
            else:
                self.traits[shape] = len(self.traits)
                # inline object, inline traits, not externalizable, dynamic, sealed count
                out = b"\x0a" + u29(len(sealed) << 4 | 0b1011) + self.string(name)
                out += b"".join(self.string(k) for k in sealed)
            out += b"".join(self.value(x) for x in sealed.values())
            for k, item in dynamic.items():
                out += self.string(k) + self.value(item)
            return out + b"\x01"
        raise TypeError("cannot encode %r as AMF3" % (v,))


def encode(value):
    return Encoder().value(value)


def avmplus(value):
    """`value` as an AMF0 message carries AMF3: the 0x11 switch, then AMF3 (for amf0_encode)."""
    return RawAmf(b"\x11" + encode(value))


class DecodeError(Exception):
    pass


class Decoder:
    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos
        self.strings, self.objects, self.traits = [], [], []

    def take(self, n):
        if self.pos + n > len(self.data):
            raise DecodeError("AMF3 data truncated at %d" % self.pos)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u29(self):
        n = 0
        for i in range(4):
            b = self.take(1)[0]
            if i == 3:
                return (n << 8) | b
            n = (n << 7) | (b & 0x7F)
            if not b & 0x80:
                return n
        return n

    def string(self):
        header = self.u29()
        if not header & 1:
            index = header >> 1
            if index >= len(self.strings):
                raise DecodeError("string reference %d of %d" % (index, len(self.strings)))
            return self.strings[index]
        s = self.take(header >> 1).decode("utf-8")
        if s:
            self.strings.append(s)
        return s

    def _object_ref(self, header):
        index = header >> 1
        if index >= len(self.objects):
            raise DecodeError("object reference %d of %d" % (index, len(self.objects)))
        return self.objects[index]

    def value(self, depth=0):
        if depth > 64:
            raise DecodeError("AMF3 nesting too deep")
        marker = self.take(1)[0]
        if marker == 0x00:
            return UNDEFINED
        if marker in (0x01, 0x02, 0x03):
            return {0x01: None, 0x02: False, 0x03: True}[marker]
        if marker == 0x04:
            n = self.u29()
            return n - (1 << 29) if n & (1 << 28) else n
        if marker == 0x05:
            return struct.unpack(">d", self.take(8))[0]
        if marker in (0x06, 0x07, 0x0B):  # string, XML document, XML
            if marker == 0x06:
                return self.string()
            header = self.u29()
            if not header & 1:
                return self._object_ref(header)
            s = self.take(header >> 1).decode("utf-8")
            self.objects.append(s)
            return s
        if marker == 0x08:
            header = self.u29()
            if not header & 1:
                return self._object_ref(header)
            d = Date(struct.unpack(">d", self.take(8))[0])
            self.objects.append(d)
            return d
        if marker == 0x09:
            header = self.u29()
            if not header & 1:
                return self._object_ref(header)
            out = Assoc()
            self.objects.append(out)
            while True:
                key = self.string()
                if key == "":
                    break
                out[key] = self.value(depth + 1)
            out.dense = [self.value(depth + 1) for _ in range(header >> 1)]
            if not out:
                plain = list(out.dense)
                self.objects[self.objects.index(out)] = plain
                return plain
            return out
        if marker == 0x0A:
            header = self.u29()
            if not header & 1:
                return self._object_ref(header)
            if not header & 2:
                index = header >> 2
                if index >= len(self.traits):
                    raise DecodeError("traits reference %d of %d" % (index, len(self.traits)))
                name, sealed_names, dynamic = self.traits[index]
            else:
                if header & 4:
                    raise DecodeError("externalizable objects are not supported")
                dynamic = bool(header & 8)
                name = self.string()
                sealed_names = [self.string() for _ in range(header >> 4)]
                self.traits.append((name, sealed_names, dynamic))
            obj = Typed(name, {}) if name or sealed_names else {}
            self.objects.append(obj)
            sealed = {k: self.value(depth + 1) for k in sealed_names}
            members = {}
            while dynamic:
                key = self.string()
                if key == "":
                    break
                members[key] = self.value(depth + 1)
            if isinstance(obj, Typed):
                obj.sealed, obj.dynamic = sealed, members
            else:
                obj.update(members)
            return obj
        if marker == 0x0C:
            header = self.u29()
            if not header & 1:
                return self._object_ref(header)
            b = self.take(header >> 1)
            self.objects.append(b)
            return b
        raise DecodeError("AMF3 marker 0x%02x not supported at %d" % (marker, self.pos - 1))


def decode(data):
    """One AMF3 value from the start of `data`: (value, bytes used)."""
    d = Decoder(data)
    return d.value(), d.pos
