"""`folder`: images and masks in folders, paired by name. `kvasir-seg` is a preset of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from samunet_tune.data import image_files
from samunet_tune.data.base import PluginDataset
from samunet_tune.data.errors import IMAGE_WITHOUT_MASK, MASK_WITHOUT_IMAGE, MISSING_FILE, DataError
from samunet_tune.data.masks import masks_from_file, normalize_classes
from samunet_tune.data.sample import Sample
from samunet_tune.data.splits import seeded_split, split_from_file


def _names(record: tuple) -> tuple[str, ...]:
    """What a split file may call a record: file name, relative stem, or bare stem."""
    return record[0].name, record[2], Path(record[2]).name


class FolderDataset(PluginDataset):
    """Images in one folder, masks in another (or the same), the mask name made from the image name.

    Args:
        root: the dataset folder.
        images_dir: folder of the images, relative to `root`.
        masks_dir: folder of the masks, relative to `root` (may be the images folder).
        mask_pattern: the mask's path inside `masks_dir`, from the image name. Fields: ``{name}``
            (file name), ``{stem}`` (name without suffix), ``{suffix}`` (".jpg"). Examples:
            ``"{name}"`` (same name), ``"{stem}.png"``, ``"{stem}_mask.png"``.
        threshold: binary masks: values >= threshold are foreground (0/1 masks read as is).
        classes: label masks: ``{value: class name}``; unset means one binary mask per file.
        class_name: the class of binary masks.
        modality: the modality of every sample ("endoscopy", "ct", ...).
        require_masks: an image without a mask is an error (or skipped); False keeps it, maskless.
        split: None for everything, or "train", "val", "test".
        split_file: a text file (relative to `root`) listing the images of `split`, one name or
            stem per line; without it `split` is drawn at random with `seed`.
        val_fraction: share of the seeded split that is "val".
        test_fraction: share of the seeded split that is "test".
        seed: seed of the seeded split (same seed and files, same split).
        recursive: also look for images in subfolders of `images_dir`.
        on_error: "raise" or "skip" (see samunet_tune.data.errors).
        verify: decode every sample while indexing (see samunet_tune.data.base).
    """

    plugin_name = "folder"

    def __init__(self, root: str | Path, images_dir: str = "images", masks_dir: str = "masks",
                 mask_pattern: str = "{name}", threshold: float = 128, classes: dict | list | None = None,
                 class_name: str = "foreground", modality: str | None = None, require_masks: bool = True,
                 split: str | None = None, split_file: str | None = None, val_fraction: float = 0.1,
                 test_fraction: float = 0.1, seed: int = 0, recursive: bool = False,
                 on_error: str = "raise", verify: bool = False) -> None:
        options = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        options["root"] = str(root)
        super().__init__(on_error=on_error, verify=verify, options=options)
        self.root = Path(root)
        self.images_root, self.masks_root = self.root / images_dir, self.root / masks_dir
        self.mask_pattern, self.threshold, self.class_name = mask_pattern, threshold, class_name
        self.classes, self.modality, self.require_masks = normalize_classes(classes), modality, require_masks
        for folder in (self.images_root, self.masks_root) if require_masks else (self.images_root,):
            if not folder.is_dir():
                raise DataError(MISSING_FILE, folder, "folder does not exist", "check root, images_dir and masks_dir")
        records = self._pair(recursive)
        if split_file is not None:
            records = split_from_file(records, self.root / split_file, _names, self.errors)
        elif split is not None:
            records = seeded_split(records, split, val_fraction, test_fraction, seed)
        self._set_records(records)

    def _mask_path(self, image: Path) -> Path:
        relative = image.relative_to(self.images_root)
        name = self.mask_pattern.format(name=relative.name, stem=relative.stem, suffix=relative.suffix)
        return self.masks_root / relative.parent / name

    def _pair(self, recursive: bool) -> list[tuple[Path, Path | None, str]]:
        files = image_files.list_image_files(self.images_root, recursive)
        expected = {self._mask_path(f) for f in files}
        same_folder = self.images_root.resolve() == self.masks_root.resolve()
        images = [f for f in files if f not in expected] if same_folder else files
        if not images:
            raise DataError(MISSING_FILE, self.images_root, "holds no PNG/JPEG/BMP/TIFF image",
                            "check root and images_dir")
        records = []
        for image in images:
            mask = self._mask_path(image)
            sample_id = image.relative_to(self.images_root).with_suffix("").as_posix()
            if mask.is_file():
                records.append((image, mask, sample_id))
            elif not self.require_masks:
                records.append((image, None, sample_id))
            else:
                self.errors.handle(DataError(
                    IMAGE_WITHOUT_MASK, image, f"has no mask (looked for {mask})",
                    f"add the mask, fix mask_pattern (now {self.mask_pattern!r}), pass require_masks=False, "
                    "or on_error='skip'"))
        if not same_folder:
            claimed = {self._mask_path(f) for f in images}
            for orphan in image_files.list_image_files(self.masks_root, recursive=True):
                if orphan not in claimed:
                    self.errors.handle(DataError(
                        MASK_WITHOUT_IMAGE, orphan, f"no image in {self.images_root} has this mask",
                        f"add its image, remove the mask, or fix mask_pattern (now {self.mask_pattern!r})"))
        return records

    def _record_mask_count(self, record: Any) -> int | None:
        if record[1] is None:
            return 0
        return 1 if self.classes is None else None

    def _load(self, record: Any) -> Sample:
        image_path, mask_path, sample_id = record
        image = image_files.read_image(image_path)
        masks = []
        if mask_path is not None:
            masks = masks_from_file(
                mask_path, image_size=image.shape[:2], policy=self.errors, classes=self.classes,
                threshold=self.threshold, class_name=self.class_name,
                source=mask_path.relative_to(self.root).as_posix())
        return Sample(image=image, masks=masks, sample_id=sample_id, modality=self.modality,
                      source=image_path.relative_to(self.root).as_posix())


class KvasirSegDataset(FolderDataset):
    """`kvasir-seg`: Kvasir-SEG as released: ``images/`` and ``masks/`` with the same names, masks
    3-channel JPEGs thresholded at 128, class "polyp", modality "endoscopy". Every `folder`
    option can still be given (a split, for instance)."""

    plugin_name = "kvasir-seg"
    PRESET = {"images_dir": "images", "masks_dir": "masks", "mask_pattern": "{name}", "threshold": 128,
              "class_name": "polyp", "modality": "endoscopy"}

    def __init__(self, root: str | Path, **options: Any) -> None:
        super().__init__(root, **{**self.PRESET, **options})
