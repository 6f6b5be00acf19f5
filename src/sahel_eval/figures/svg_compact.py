"""Matplotlib's SVG made small and safe to inline several times in one page.

Matplotlib writes every figure with the same ids (``figure_1``, ``axes_1``,
``line2d_1`` …), an indented ``<g>`` per artist, a full ``style`` attribute on every
element and coordinates to six decimals. Inlined side by side in a report, the ids
repeat (invalid HTML; assistive technology may follow the wrong reference) and the
bytes add up (a technical report was over 800 KB). :func:`compact_svg` keeps the
drawing and its text (``<text>`` elements) and rewrites the rest:

* ids nothing refers to are dropped; the referenced ones (clip paths, markers,
  hatches) are renamed ``{prefix}i{n}``, so each figure's ids are its own, and
  referred to by SVG 2's ``href`` (``xlink:href`` before);
* each distinct ``style`` becomes a class ``{prefix}s{n}`` defined once in the
  figure's ``<style>`` (without spaces, colours as ``#rgb``), scoped to the figure
  (the matplotlib ``*`` rule too, which would otherwise reach the whole HTML page);
* coordinates are rounded to 0.1 pt (1/720 inch, below what a screen or printer
  shows; it keeps the technical report under 600 KB), ``rotate(0 …)`` and bare
  ``<g>`` wrappers, metadata and indentation are removed; the font family is set once
  on the root;
* a path of straight segments is written with the shortest of absolute, relative
  (``l``), horizontal (``H``/``h``) and vertical (``V``/``v``) steps, computed in whole
  tenths so that every point lands where it was;
* consecutive siblings of one class (the markers of a series, the ticks of an axis)
  are wrapped in one ``<g>`` of that class, when every property of the class is
  inherited (not ``stroke-linecap``/``-linejoin``, which the scoped ``*`` rule sets on
  each element, nor ``opacity``-like ones).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["compact_svg", "shorten_path"]

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
_HREF = f"{{{_XLINK}}}href"

_GEOMETRY = frozenset({"d", "x", "y", "width", "height", "transform", "points", "viewBox"})
_LONG_DECIMAL = re.compile(r"-?\d+\.\d{2,}")
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_NO_ROTATION = re.compile(r"rotate\(-?0 [^)]*\)")
_PATH_SPACES = (re.compile(r"([A-Za-z]) "), re.compile(r" ([A-Za-z])"))


_STEP = re.compile(r"([MLHVZmlhvz])|(-?(?:\d+\.?\d*|\.\d+))")
# Properties a <g> passes on only if its children inherit them (or not set per element).
_NOT_INHERITED = ("stroke-linecap", "stroke-linejoin", "opacity", "clip-path", "mask", "filter")


def _tenths(t: int) -> str:
    """A whole number of tenths as the shortest SVG number: 15 -> 1.5, -5 -> -.5."""
    sign, t = ("-", -t) if t < 0 else ("", t)
    whole, frac = divmod(t, 10)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole if whole else ''}.{frac}"


def _join(parts: list[str]) -> str:
    # Numbers after a command letter or before a minus sign need no space.
    out = ""
    for part in parts:
        if out and out[-1].isdigit() and not part[0].isalpha() and part[0] != "-":
            out += " "
        elif out and out[-1] == "." and part[0] == ".":
            out += " "
        out += part
    return out


def shorten_path(d: str) -> str:
    """Straight-segment path data rewritten with the shortest steps (else ``d``)."""
    tokens = _STEP.findall(d)
    if "".join(a or b for a, b in tokens).replace(" ", "") != d.replace(" ", ""):
        return d
    cmds: list[tuple[str, list[int]]] = []
    for letter, number in tokens:
        if letter:
            cmds.append((letter, []))
        elif not cmds:
            return d
        else:
            cmds[-1][1].append(round(float(number) * 10))
    if not cmds or any(c not in "MLZz" for c, _ in cmds):
        return d
    out: list[str] = []
    x = y = start_x = start_y = 0
    last = ""
    for c, nums in cmds:
        if c in "Zz":
            out.append("z")
            x, y, last = start_x, start_y, "z"
            continue
        if len(nums) % 2:
            return d
        for i in range(0, len(nums), 2):
            nx, ny = nums[i], nums[i + 1]
            move = c == "M" and i == 0
            options = (
                [("M", [nx, ny]), ("m", [nx - x, ny - y])]
                if move
                else [
                    ("L", [nx, ny]),
                    ("l", [nx - x, ny - y]),
                    *([("V", [ny]), ("v", [ny - y])] if nx == x else []),
                    *([("H", [nx]), ("h", [nx - x])] if ny == y else []),
                ]
            )
            if move and not out:
                options = options[:1]  # the first move is absolute
            best = min(
                options,
                key=lambda o: len(_join([o[0] if o[0] != last else "", *map(_tenths, o[1])])),
            )
            letter = "" if best[0] == last and best[0] not in "Mm" else best[0]
            out += [letter, *map(_tenths, best[1])] if letter else list(map(_tenths, best[1]))
            last = "l" if best[0] == "m" else "L" if best[0] == "M" else best[0]
            x, y = nx, ny
            if move:
                start_x, start_y = nx, ny
    return _join([p for p in out if p])


# " />" closing an element (never text: text holds no "<" before it in a tag).
_EMPTY_TAG = re.compile(r"(?<=[^<>]) />")
_SHORT_COLOUR = re.compile(r"#([0-9a-f])\1([0-9a-f])\2([0-9a-f])\3\b")


def _minified(css: str) -> str:
    """A class's declarations without spaces after ``:`` and ``;``, colours as #rgb."""
    css = ";".join(f"{p.strip()}:{v.strip()}" for p, v in (d.split(":", 1) for d in css.split(";")))
    return _SHORT_COLOUR.sub(r"#\1\2\3", css)


def _round(match: re.Match[str]) -> str:
    text = f"{float(match.group(0)):.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _geometry(name: str, value: str) -> str:
    value = _LONG_DECIMAL.sub(_round, " ".join(value.split()))
    if name == "d":
        for pattern in _PATH_SPACES:
            value = pattern.sub(r"\1", value)
        value = shorten_path(value)
    return value


def _without_family(style: str, family: str) -> str:
    """``style`` less its ``font-family`` when that names ``family`` first (set on the root).

    Text drawn outside the project's rc settings lists matplotlib's fallbacks after it
    (``'DejaVu Sans', 'Bitstream Vera Sans', …``): the whole declaration goes.
    """
    kept = []
    for decl in style.split(";"):
        prop, _, value = decl.partition(":")
        if prop.strip() == "font-family" and value.strip().startswith(f"'{family}'"):
            continue
        if decl.strip():
            kept.append(decl.strip())
    return "; ".join(kept)


def _unwrap_bare_groups(parent: ET.Element) -> None:
    children: list[ET.Element] = []
    for child in list(parent):
        _unwrap_bare_groups(child)
        if child.tag == f"{{{_SVG}}}g" and not child.attrib:
            children.extend(child)
        else:
            children.append(child)
    parent[:] = children


def _group_runs(parent: ET.Element, inherited: set[str]) -> None:
    """Wrap runs of consecutive children of one ``inherited`` class in a ``<g>``."""
    for child in parent:
        _group_runs(child, inherited)
    children: list[ET.Element] = []
    for child in list(parent):
        cls = child.get("class")
        prev = children[-1] if children else None
        if cls in inherited and prev is not None:
            if prev.tag == f"{{{_SVG}}}g" and prev.get("class") == cls and prev.get("_run"):
                del child.attrib["class"]
                prev.append(child)
                continue
            if prev.get("class") == cls and prev.tag != f"{{{_SVG}}}g":
                group = ET.Element(f"{{{_SVG}}}g", {"class": cls, "_run": "1"})
                del prev.attrib["class"], child.attrib["class"]
                group.extend([prev, child])
                children[-1] = group
                continue
        children.append(child)
    parent[:] = children


def compact_svg(data: bytes, prefix: str, font_family: str) -> bytes:
    """Rewrite matplotlib SVG ``data`` as described in the module docstring.

    ``prefix`` (a letter, then letters or digits) starts every id and class of the
    figure: figures inlined in one page need different prefixes. ``font_family`` is
    the family matplotlib wrote on each ``<text>``; it is set once on the root.
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", prefix):
        raise ValueError(f"SVG id prefix {prefix!r} must be a letter then letters or digits")
    text = data.decode("utf-8")
    root = ET.fromstring(text)
    referenced = set(_URL_REF.findall(text)) | set(re.findall(r'href="#([^"]+)"', text))
    ids: dict[str, str] = {}
    for el in root.iter():
        old = el.get("id")
        if old is None:
            continue
        if old in referenced:
            ids[old] = el.attrib["id"] = f"{prefix}i{len(ids)}"
        else:
            del el.attrib["id"]
    # matplotlib's metadata and its global "*" rule (written again below, scoped).
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{_SVG}}}metadata", f"{{{_SVG}}}style"):
                parent.remove(child)
    classes: dict[str, str] = {}
    for el in root.iter():
        for name, value in list(el.attrib.items()):
            value = _URL_REF.sub(lambda m: f"url(#{ids[m.group(1)]})", value)
            if name == _HREF and value.startswith("#"):
                # SVG 2's plain href (browsers, WeasyPrint): no xlink namespace needed.
                del el.attrib[name]
                el.set("href", "#" + ids[value[1:]])
                continue
            elif name == "transform" and _NO_ROTATION.fullmatch(value):
                del el.attrib[name]
                continue
            elif name in _GEOMETRY:
                value = _geometry(name, value)
            elif name == "style":
                style = _without_family(value, font_family)
                del el.attrib[name]
                if style:
                    el.set("class", classes.setdefault(style, f"{prefix}s{len(classes)}"))
                continue
            el.set(name, value)
        if el.text is not None and not el.text.strip():
            el.text = None
        el.tail = None
    _unwrap_bare_groups(root)
    inherited = {
        name
        for css, name in classes.items()
        if not {d.split(":")[0].strip() for d in css.split(";")} & set(_NOT_INHERITED)
    }
    _group_runs(root, inherited)
    for el in root.iter():
        el.attrib.pop("_run", None)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{_SVG}}}defs" and not len(child):
                parent.remove(child)
    root.set("class", prefix)
    root.set("style", f"font-family: '{font_family}'")
    style = ET.Element(f"{{{_SVG}}}style")
    # The scoped "*" rule comes first: a class rule of equal specificity then wins, as
    # the inline style it replaces did.
    style.text = f".{prefix} *{{stroke-linejoin:round;stroke-linecap:butt}}" + "".join(
        f".{name}{{{_minified(css)}}}" for css, name in classes.items()
    )
    root.insert(0, style)
    # The prefix map is global to the process: another library registering its own
    # default namespace drops ours (the SVG would come out as ns0:svg). Register at
    # each write.
    ET.register_namespace("", _SVG)
    ET.register_namespace("xlink", _XLINK)
    root.attrib.pop("version", None)  # SVG 2 has no version; browsers ignore it
    body = _EMPTY_TAG.sub("/>", ET.tostring(root, encoding="unicode"))
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")
