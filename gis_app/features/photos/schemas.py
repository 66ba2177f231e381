"""The photos' answers in the JSON API: one photo's record with its EXIF evidence and
warnings, and a site's photos by kind."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, WithJsonSchema

from gis_app.core import codes
from gis_app.core.schemas import Schema

#: a photo's kind, one of codes.PHOTO_KINDS
PhotoKind = Annotated[str, WithJsonSchema({"type": "string", "enum": list(codes.PHOTO_KINDS)})]


class PhotoWarning(Schema):
    """An evidence problem an officer should look at (the photo is kept all the same)."""

    code: str = Field(description="警示代码（gps_far、taken_before_registration、exif_unreadable）")
    message: str = Field(description="警示说明")


class PhotoRecord(Schema):
    """One photo's record: the file's facts, EXIF time and position, warnings."""

    id: int = Field(description="照片编号")
    site_id: int = Field(description="点位编号")
    step_id: int | None = Field(description="所证明的治理步骤")
    kind: PhotoKind = Field(description="照片类别：整改前、整改后、巡查")
    kind_label: str = Field(description="照片类别的中文名")
    sha256: str = Field(description="文件内容的 SHA-256")
    media_type: str = Field(description="文件类型（image/jpeg、image/png、image/webp）")
    size_bytes: int = Field(description="文件大小（字节）")
    width: int = Field(description="宽（像素）")
    height: int = Field(description="高（像素）")
    original_name: str = Field(description="上传时的文件名")
    taken_at: datetime | None = Field(description="EXIF 拍摄时间")
    taken_at_local: str = Field(description="拍摄时间（北京时间，未知时为空）")
    gps: list[float] | None = Field(description="EXIF 拍摄位置 [经度, 纬度]")
    gps_distance_m: float | None = Field(description="拍摄位置距点位的距离（米）")
    warnings: list[PhotoWarning] = Field(description="警示")
    uploaded_by: str = Field(description="上传人")
    uploaded_at: datetime = Field(description="上传时间")
    uploaded_at_local: str = Field(description="上传时间（北京时间）")


class SitePhotos(Schema):
    """A site's photos by kind, oldest first."""

    before: list[PhotoRecord] = Field(description="整改前照片")
    after: list[PhotoRecord] = Field(description="整改后照片")
    inspection: list[PhotoRecord] = Field(description="巡查照片")
