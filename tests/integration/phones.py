"""Real SIP phones (baresip 1.0) and audio checks for Junction's integration tests.

A phone plays a sine tone (ausine) and records what it decodes (sndfile writes *-dec.wav), so a
test can tell by the recording's dominant frequency that the other side's audio arrived.
Phones register with the junction under test over UDP on 127.0.0.1; nothing else is contacted.
"""

import math
import os
import socket
import struct
import subprocess
import wave


def free_udp_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def tone_strength_of_samples(samples, rate, frequency):
    """How much of `samples` (one second or so of mono PCM) is at `frequency` (Goertzel, 0..1)."""
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    energy = sum(x * x for x in samples) * len(samples) / 2
    return power / energy if energy else 0.0


def tone_strength(wav_path, frequency):
    """How much of the signal in a 16-bit WAV is at `frequency` (0..1), over one second from a
    third of the way in (where both ends were talking)."""
    with wave.open(wav_path, "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        frames = w.readframes(w.getnframes())
    samples = struct.unpack("<%dh" % (len(frames) // 2), frames)[::channels]
    middle = samples[len(samples) // 3: len(samples) // 3 + rate]
    return tone_strength_of_samples(middle, rate, frequency)


def make_phone(workdir, sip_address, name, password, frequency, rtp_ports, add_user,
               modules=(), account_params="", contacts=(), codecs="PCMU"):
    """A baresip home folder for `name`@127.0.0.1 (created in the user store with add_user(aor,
    password)) that registers with digest authentication at sip_address, answers calls at once,
    sends a `frequency` Hz tone and records what it hears. Returns the folder."""
    home = os.path.join(workdir, name)
    os.makedirs(home, exist_ok=True)
    # baresip listens on UDP/TCP `port` and TLS on port + 1.
    while True:
        port = free_udp_port()
        try:
            for p in (port, port + 1):
                with socket.socket() as t:
                    t.bind(("127.0.0.1", p))
            break
        except OSError:
            continue
    with open(os.path.join(home, "config"), "w") as f:
        f.write("\n".join([
            "poll_method epoll", "sip_listen 127.0.0.1:%d" % port,
            "audio_player aubridge,sink", "audio_source ausine,%d" % frequency,
            "audio_alert aubridge,alert", "ausrc_srate 48000", "auplay_srate 48000",
            "ausrc_channels 2", "auplay_channels 2", "rtp_ports %s" % rtp_ports,
            "module_path /usr/lib/baresip/modules", "module g711.so", "module ausine.so",
            "module aubridge.so", "module sndfile.so", "module_app account.so", "module_app menu.so",
            "snd_path %s" % home] + ["module_app %s" % m for m in modules] + [""]))
    with open(os.path.join(home, "accounts"), "w") as f:
        f.write('<sip:%s@127.0.0.1>;auth_pass=%s;outbound="sip:%s";regint=600;answermode=auto;'
                'audio_codecs=%s%s\n' % (name, password, sip_address, codecs, account_params))
    with open(os.path.join(home, "contacts"), "w") as f:
        f.write("".join(c + "\n" for c in contacts))
    add_user("%s@127.0.0.1" % name, password)
    return home


def run_phone(home, seconds, *commands):
    """Starts baresip on a home folder for `seconds`, running each command (e.g. "/dial ...")."""
    cmd = ["baresip", "-f", home, "-t", str(seconds)]
    for c in commands:
        cmd += ["-e", c]
    return subprocess.Popen(cmd, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def decoded_recording(home):
    """The one *-dec.wav a phone wrote (what it received and decoded), or None."""
    files = [f for f in os.listdir(home) if f.endswith("-dec.wav")]
    return os.path.join(home, files[0]) if len(files) == 1 else None
