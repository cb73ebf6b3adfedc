# Videos to train on: list your own normal footage here.
# 학습에 사용할 영상 목록: 여기에 정상 상황 영상을 적어 주세요.
#
# Each entry can be a video file, a folder (every video file directly inside it) or a
# wildcard pattern. Relative paths are relative to this file's folder.
# 각 항목은 영상 파일, 폴더(폴더 바로 안의 모든 영상), 또는 와일드카드 패턴일 수 있습니다.
# 상대 경로는 이 파일이 있는 폴더를 기준으로 합니다.
#
# Windows paths: put r in front of the quotes (r"D:\...") or use forward slashes (D:/...).
# 윈도우 경로: 따옴표 앞에 r 을 붙이거나 (r"D:\...") 슬래시(/)를 사용하세요.
#
# Examples / 예시:
#   r"D:\CCTV\1번 카메라\2024-05-01 09시.mp4",   # one file / 파일 하나
#   r"D:\CCTV\1번 카메라",                       # a folder / 폴더
#   "D:/CCTV/*/*.avi",                           # a pattern / 패턴
#
# The demo clip below is synthetic (samples/make_demo_clip.py) and is created on the first run.
# 아래 데모 영상은 합성 영상이며(samples/make_demo_clip.py) 처음 실행할 때 자동으로 만들어집니다.

video_files = [
    "samples/demo_normal.mp4",
]
