"""Importing torchvision when its compiled operators cannot load.

open_clip imports `torchvision.transforms`, which is pure Python. torchvision's
package `__init__` however registers fake (meta) kernels for its C++ operators
(`torchvision::nms`, `roi_align`, …) and fails with ``RuntimeError: operator
torchvision::nms does not exist`` when its `_C` extension cannot be loaded — as
happens when a torchvision wheel built against CUDA libraries sits next to a
CPU-only torch.

`prepare()` runs before torchvision's own import: if the compiled extension does
not load, it *declares* the operator schemas (the same signatures torchvision's
C++ code registers) with `torch.library`, so that the Python part imports. The
operators then exist without kernels: calling one (e.g. `torchvision.ops.nms`)
still fails loudly, and nothing qmdb does calls them — it uses torchvision only
through open_clip's image transforms, and qmdb does its own preprocessing.

Installing qmdb puts `qmdb-torchvision.pth` in site-packages (see setup.py): its one
line (the file `qmdb/torchvision.pth`) adds a finder to `sys.meta_path` that calls
`prepare()` on the first `import torchvision` of any script in that environment,
whether or not it imports qmdb, and does nothing after that. Where torchvision's extension loads (a matching
build), `prepare()` changes nothing.
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys
from pathlib import Path

# The schemas of torchvision's C++ operators (torchvision/csrc/ops/*.cpp).
SCHEMAS: dict[str, str] = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "box_iou_rotated": "box_iou_rotated(Tensor boxes1, Tensor boxes2) -> Tensor",
    "roi_align": "roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                 "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor",
    "_roi_align_backward": "_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, "
                           "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, "
                           "SymInt height, SymInt width, int sampling_ratio, bool aligned) -> Tensor",
    "qroi_align": "qroi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                  "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor",
    "ps_roi_align": "ps_roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                    "SymInt pooled_width, int sampling_ratio) -> (Tensor, Tensor)",
    "_ps_roi_align_backward": "_ps_roi_align_backward(Tensor grad, Tensor rois, Tensor channel_mapping, "
                              "float spatial_scale, SymInt pooled_height, SymInt pooled_width, int sampling_ratio, "
                              "SymInt batch_size, SymInt channels, SymInt height, SymInt width) -> Tensor",
    "roi_pool": "roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                "SymInt pooled_width) -> (Tensor, Tensor)",
    "_roi_pool_backward": "_roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, "
                          "SymInt pooled_height, SymInt pooled_width, SymInt batch_size, SymInt channels, "
                          "SymInt height, SymInt width) -> Tensor",
    "ps_roi_pool": "ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
                   "SymInt pooled_width) -> (Tensor, Tensor)",
    "_ps_roi_pool_backward": "_ps_roi_pool_backward(Tensor grad, Tensor rois, Tensor channel_mapping, "
                             "float spatial_scale, SymInt pooled_height, SymInt pooled_width, SymInt batch_size, "
                             "SymInt channels, SymInt height, SymInt width) -> Tensor",
    "deform_conv2d": "deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, "
                     "SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, "
                     "SymInt dilation_w, SymInt groups, SymInt offset_groups, bool use_mask) -> Tensor",
    "_deform_conv2d_backward": "_deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, Tensor offset, "
                               "Tensor mask, Tensor bias, SymInt stride_h, SymInt stride_w, SymInt pad_h, "
                               "SymInt pad_w, SymInt dilation_h, SymInt dilation_w, SymInt groups, "
                               "SymInt offset_groups, bool use_mask) -> (Tensor, Tensor, Tensor, Tensor, Tensor)",
}

_LIBRARY = None  # keeps the declared schemas alive for the life of the process


def _declare_missing_ops() -> None:
    global _LIBRARY
    import torch

    missing = {name: s for name, s in SCHEMAS.items() if not _op_exists(torch, name)}
    if missing:
        _LIBRARY = torch.library.Library("torchvision", "FRAGMENT")
        for schema in missing.values():
            _LIBRARY.define(schema)


def _op_exists(torch, name: str) -> bool:
    try:
        getattr(torch.ops.torchvision, name)
        return True
    except (AttributeError, RuntimeError):
        return False


def extension_loads() -> bool | None:
    """Whether torchvision's compiled `_C` extension loads beside this torch (None: no torchvision)."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return None
    import torch  # noqa: F401  (the extension links against the libraries torch loads)

    for folder in spec.submodule_search_locations:
        for library in sorted(Path(folder).glob("_C*.so")) + sorted(Path(folder).glob("_C*.pyd")):
            try:
                ctypes.CDLL(str(library))
                return True
            except OSError:
                return False
    return False


def prepare() -> None:
    """Make `import torchvision` work: declare the operator schemas if its extension cannot load."""
    if "torchvision" in sys.modules or importlib.util.find_spec("torch") is None:
        return
    if extension_loads() is False:
        _declare_missing_ops()


def import_torchvision():
    """Import torchvision, declaring its operator schemas first where its extension cannot load."""
    prepare()
    import torchvision
    return torchvision
