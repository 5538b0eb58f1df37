"""Assertions shared by the accounts tests."""


def body(response, status: int, code: int) -> dict:
    """Assert the envelope's HTTP status and code; return the decoded body."""
    data = response.json()
    assert response.status_code == status, data
    assert data["code"] == code, data
    assert isinstance(data["message"], str) and data["message"]
    assert isinstance(data["timestamp"], int)
    return data


def image_upload(name="avatar.jpg", fmt="JPEG", size=(64, 48), exif=True, mode="RGB"):
    """An in-memory image file; JPEGs carry EXIF (camera make and a GPS block) unless told not to."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    image = Image.new(mode, size, (200, 30, 90) if mode == "RGB" else (200, 30, 90, 128))
    out = io.BytesIO()
    kwargs = {}
    if exif and fmt == "JPEG":
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x8825] = {1: "N", 2: (39.0, 54.0, 0.0)}  # GPS IFD
        kwargs["exif"] = data.tobytes()
    image.save(out, format=fmt, **kwargs)
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}[fmt]
    return SimpleUploadedFile(name, out.getvalue(), content_type=content_type)
