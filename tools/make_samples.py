#!/usr/bin/env python3
"""Draw the sample images ikmeta ships (examples/) and write their EXIF.

    python3 tools/make_samples.py [OUT_DIR]     # default: examples/

Everything here is drawn by this script, so the project owns it:
- harbour.jpg: a 800x533 JPEG "photo" (sky, sun, sea, boats) with an sRGB ICC profile
  and EXIF in IFD0, the Exif IFD and the GPS IFD.
- harbour_small.jpg: the same picture as a 400x267 web copy (quality 70, no metadata),
  so that `ikmeta dupes examples` has a near-duplicate to find.
- badge.png: a 256x256 RGBA PNG with transparent corners and a 300 dpi pHYs chunk.
- clip.mp4: a 3-second 320x180 H.264 clip panning across the harbour, with a tone (AAC),
  a capture time and a place, written with PyAV (the video extra; skipped without it).
Needs Pillow (and PyAV for the clip).
"""

from __future__ import annotations

import math
import os
import sys

from PIL import Image, ImageCms, ImageDraw

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def draw_harbour(size: tuple[int, int] = (800, 533)) -> Image.Image:
    """A harbour at dusk: a vertical sky gradient, a sun, sea with ripples and three boats."""
    w, h = size
    im = Image.new("RGB", size)
    draw = ImageDraw.Draw(im)
    horizon = int(h * 0.62)
    for y in range(horizon):
        t = y / horizon
        draw.line([(0, y), (w, y)], fill=(int(40 + 200 * t), int(60 + 110 * t), int(140 - 40 * t)))
    draw.ellipse([w * 0.62, h * 0.30, w * 0.74, h * 0.48], fill=(255, 214, 120))
    for y in range(horizon, h):
        t = (y - horizon) / (h - horizon)
        draw.line([(0, y), (w, y)], fill=(int(30 + 30 * t), int(70 + 40 * t), int(110 + 50 * t)))
    for k in range(40):
        y = horizon + 6 + k * (h - horizon) / 40
        x0 = (k * 97) % w
        draw.line([(x0, y), (x0 + 60 + (k % 5) * 20, y)], fill=(200, 170, 120), width=1)
    for i, x in enumerate((0.15, 0.38, 0.55)):
        bx, by = w * x, horizon + 30 + 25 * i
        draw.polygon([(bx, by), (bx + 90, by), (bx + 75, by + 22), (bx + 12, by + 22)], fill=(90, 40, 30))
        draw.line([(bx + 45, by), (bx + 45, by - 80 + 10 * i)], fill=(60, 40, 30), width=3)
        draw.polygon(
            [(bx + 47, by - 75 + 10 * i), (bx + 47, by - 8), (bx + 85, by - 8)], fill=(235, 230, 215)
        )
    return im


def draw_badge(side: int = 256) -> Image.Image:
    """A round badge with a star on a transparent background."""
    im = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(im)
    draw.ellipse([8, 8, side - 8, side - 8], fill=(36, 99, 235, 255), outline=(15, 40, 110, 255), width=6)
    c, r_out, r_in = side / 2, side * 0.36, side * 0.15
    star = []
    for k in range(10):
        r = r_out if k % 2 == 0 else r_in
        a = -math.pi / 2 + k * math.pi / 5
        star.append((c + r * math.cos(a), c + r * math.sin(a)))
    draw.polygon(star, fill=(250, 204, 21, 255))
    return im


def harbour_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "ikmeta"  # Make
    exif[0x0110] = "Sample Camera 1"  # Model
    exif[0x0112] = 1  # Orientation
    exif[0x011A] = 300.0  # XResolution
    exif[0x011B] = 300.0  # YResolution
    exif[0x0128] = 2  # ResolutionUnit: inches
    exif[0x0131] = "ikmeta tools/make_samples.py"  # Software
    exif[0x0132] = "2024:06:01 20:15:00"  # ModifyDate
    exif[0x8298] = "Drawn by the ikmeta project (CC0)"  # Copyright
    ifd = exif.get_ifd(0x8769)
    ifd[0x829A] = 1 / 250  # ExposureTime
    ifd[0x829D] = 5.6  # FNumber
    ifd[0x8827] = 200  # ISO
    ifd[0x9000] = b"0232"  # ExifVersion
    ifd[0x9003] = "2024:06:01 20:14:59"  # DateTimeOriginal
    ifd[0x9004] = "2024:06:01 20:14:59"  # CreateDate
    ifd[0x920A] = 35.0  # FocalLength
    ifd[0x9286] = b"ASCII\x00\x00\x00Evening at the harbour"  # UserComment
    ifd[0xA002] = 800  # ExifImageWidth
    ifd[0xA003] = 533  # ExifImageHeight
    gps = exif.get_ifd(0x8825)
    gps[0x0000] = b"\x02\x03\x00\x00"  # GPSVersionID
    gps[0x0001] = "N"
    gps[0x0002] = (59.0, 54.0, 36.0)  # GPSLatitude
    gps[0x0003] = "E"
    gps[0x0004] = (10.0, 44.0, 24.0)  # GPSLongitude
    gps[0x0006] = 4.0  # GPSAltitude
    return exif


def save_harbour(path: str) -> None:
    im = draw_harbour()
    exif = harbour_exif()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im.save(path, "JPEG", quality=85, exif=exif, icc_profile=srgb)


def save_harbour_small(path: str) -> None:
    draw_harbour().resize((400, 267), Image.Resampling.LANCZOS).save(path, "JPEG", quality=70)


def save_badge(path: str) -> None:
    draw_badge().save(path, "PNG", dpi=(300, 300), optimize=True)


# How each sample clip is encoded: (container, video encoder and options, audio encoder, rate).
CLIP_ENCODINGS = {
    "mp4": ("mp4", "libx264", {"crf": "30", "preset": "slow"}, "aac", 44100),
    "webm": (
        "webm",
        "libvpx-vp9",
        {"crf": "40", "b": "0", "deadline": "good", "cpu-used": "4"},
        "libopus",
        48000,
    ),
}


def save_clip(
    path: str, seconds: int = 3, fps: int = 25, size: tuple[int, int] = (320, 180), kind: str = "mp4"
) -> None:
    """A pan across the harbour, left to right, with a 440 Hz tone; as an MP4 tagged with a
    capture time and the harbour's place (the tags a phone writes), or (``kind`` "webm") as a
    WebM without them (a copy a messenger made smaller and sent on)."""
    import av
    import numpy as np

    muxer, codec, options, audio_codec, rate = CLIP_ENCODINGS[kind]
    picture = np.asarray(draw_harbour((480, 320)).resize((480, 270)))
    muxing = {"movflags": "+faststart+use_metadata_tags"} if muxer == "mp4" else {}
    with av.open(path, "w", format=muxer, options=muxing) as out:
        if muxer == "mp4":
            out.metadata.update(
                {"creation_time": "2024-06-01T18:40:12.000000Z", "location": "+59.9100+010.7400/"}
            )
        video = out.add_stream(codec, rate=fps, options=options)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        sound = out.add_stream(audio_codec, rate=rate)
        sound.bit_rate = 32000
        frames = seconds * fps
        for i in range(frames):
            x = i * (picture.shape[1] - 320) // (frames - 1)
            window = np.ascontiguousarray(picture[45 : 45 + 180, x : x + 320])
            if size != (320, 180):
                window = np.asarray(Image.fromarray(window).resize(size, Image.Resampling.LANCZOS))
            out.mux(video.encode(av.VideoFrame.from_ndarray(window, format="rgb24")))
        out.mux(video.encode())
        t = np.arange(seconds * rate) / rate
        tone = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, -1)
        step = sound.codec_context.frame_size or 1024
        for start in range(0, tone.shape[1] - step + 1, step):
            block = av.AudioFrame.from_ndarray(tone[:, start : start + step], format="fltp", layout="mono")
            block.sample_rate, block.pts = rate, start
            out.mux(sound.encode(block))
        out.mux(sound.encode())


def main(out: str) -> int:
    os.makedirs(out, exist_ok=True)
    save_harbour(os.path.join(out, "harbour.jpg"))
    save_harbour_small(os.path.join(out, "harbour_small.jpg"))
    save_badge(os.path.join(out, "badge.png"))
    print(f"wrote {out}/harbour.jpg, {out}/harbour_small.jpg and {out}/badge.png")
    try:
        save_clip(os.path.join(out, "clip.mp4"))
        save_clip(os.path.join(out, "clip_small.webm"), size=(160, 90), kind="webm")
    except ImportError:
        print("clip.mp4 and clip_small.webm not written: they need PyAV (pip install av)")
    else:
        print(f"wrote {out}/clip.mp4 and {out}/clip_small.webm")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "examples")))
