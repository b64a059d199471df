#include "gateway/codec_list.hpp"

#include <algorithm>
#include <cctype>

namespace junction::gateway {
namespace {

using media::sdp::codec;

struct entry {
  codec_choice choice;
  std::string_view name;
};
constexpr entry names[] = {
    {codec_choice::wideband, "wideband"}, {codec_choice::narrowband, "narrowband"}, {codec_choice::pcmu, "pcmu"},
    {codec_choice::pcma, "pcma"},         {codec_choice::ulaw, "ulaw"},             {codec_choice::alaw, "alaw"},
    {codec_choice::opus, "opus"},         {codec_choice::g722, "g722"},             {codec_choice::dtmf, "dtmf"},
    {codec_choice::h264, "h264"},         {codec_choice::flv, "flv"},
};

bool is_video(codec_choice c) { return c == codec_choice::h264 || c == codec_choice::flv; }

// The SDP codec each audio or video choice stands for (dtmf has none of its own).
std::optional<codec> sdp_codec(codec_choice c) {
  switch (c) {
    case codec_choice::wideband: return codec{96, "speex", 16000, 1, {}};
    case codec_choice::narrowband: return codec{97, "speex", 8000, 1, {}};
    case codec_choice::pcmu:
    case codec_choice::ulaw: return codec{0, "PCMU", 8000, 1, {}};
    case codec_choice::pcma:
    case codec_choice::alaw: return codec{8, "PCMA", 8000, 1, {}};
    case codec_choice::opus: return codec{111, "opus", 48000, 2, "useinbandfec=1"};
    case codec_choice::g722: return codec{9, "G722", 8000, 1, {}};
    case codec_choice::h264: return codec{98, "H264", 90000, 1, "profile-level-id=42e01f;packetization-mode=1"};
    case codec_choice::flv: return codec{99, "x-flv", 90000, 1, {}};
    case codec_choice::dtmf: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<codec_choice> parse_codec_choice(std::string_view name) noexcept {
  for (const auto& e : names)
    if (e.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), e.name.begin(), [](char a, char b) { return std::tolower(a) == b; }))
      return e.choice;
  return std::nullopt;
}

std::string_view choice_name(codec_choice c) noexcept {
  for (const auto& e : names)
    if (e.choice == c) return e.name;
  return "";
}

std::vector<codec_choice> all_codec_choices() {
  std::vector<codec_choice> out;
  for (const auto& e : names) out.push_back(e.choice);
  return out;
}

codec_list parse_codec_list(std::span<const std::string> given) {
  codec_list list;
  for (const auto& name : given) {
    auto c = parse_codec_choice(name);
    if (!c) {
      list.unknown.push_back(name);
      continue;
    }
    if (std::find(list.choices.begin(), list.choices.end(), *c) == list.choices.end()) list.choices.push_back(*c);
  }
  list.given = !list.choices.empty();
  if (!list.given) list.choices = {codec_choice::wideband, codec_choice::dtmf, codec_choice::flv};
  return list;
}

std::vector<media::sdp::media_capabilities> capabilities(const codec_list& list) {
  media::sdp::media_capabilities audio{"audio", {}, false}, video{"video", {}, false};
  for (codec_choice c : list.choices) {
    if (c == codec_choice::dtmf) {
      audio.telephone_event = true;
      continue;
    }
    auto sc = sdp_codec(c);
    auto& into = is_video(c) ? video.codecs : audio.codecs;
    // ulaw and pcmu are one SDP codec: offered once, where it first comes.
    if (std::none_of(into.begin(), into.end(), [&](const codec& x) { return x.payload_type == sc->payload_type; }))
      into.push_back(*sc);
  }
  std::vector<media::sdp::media_capabilities> out;
  if (!audio.codecs.empty()) out.push_back(std::move(audio));
  if (!video.codecs.empty()) out.push_back(std::move(video));
  return out;
}

call_media_plan plan(const codec_list& list, std::span<const media::sdp::negotiated_media> agreed) {
  call_media_plan p;
  const media::sdp::negotiated_media* audio = nullptr;
  const media::sdp::negotiated_media* video = nullptr;
  for (const auto& m : agreed) {
    if (!m.accepted) continue;
    if (m.media == "audio" && !audio) audio = &m;
    if (m.media == "video" && !video) video = &m;
  }
  auto agreed_on = [](const media::sdp::negotiated_media* m, const codec& c) {
    return m && std::any_of(m->codecs.begin(), m->codecs.end(), [&](const codec& x) { return media::sdp::same_codec(x, c); });
  };
  // The client's order decides: the first of its choices the phone also has.
  for (codec_choice c : list.choices) {
    if (c == codec_choice::dtmf) continue;
    auto sc = sdp_codec(c);
    if (is_video(c)) {
      if (!p.video && agreed_on(video, *sc)) p.video = c;
    } else if (!p.audio && agreed_on(audio, *sc)) {
      p.audio = c;
      for (const auto& x : audio->codecs)
        if (media::sdp::same_codec(x, *sc)) p.phone_audio = x;
    }
  }
  p.xflv = p.video == codec_choice::flv;
  // x-flv carries the audio too: the audio stream is left unused (as siprtmp does).
  if (p.xflv) p.audio.reset();
  p.dtmf = audio && audio->telephone_event && std::find(list.choices.begin(), list.choices.end(), codec_choice::dtmf) != list.choices.end();
  if (p.audio) {
    switch (*p.audio) {
      case codec_choice::pcmu: p.client_audio = media::codec::g711u, p.client_rate = 8000; break;
      case codec_choice::pcma: p.client_audio = media::codec::g711a, p.client_rate = 8000; break;
      default: p.client_audio = media::codec::speex, p.client_rate = 16000; break;
    }
    p.transcode_audio = *p.audio != codec_choice::wideband && *p.audio != codec_choice::pcmu && *p.audio != codec_choice::pcma;
  }
  if (list.given) {
    // x-flv carries whatever the client sends: "default" for both (siprtmp's rule).
    if (p.xflv) p.audio_callback = "default";
    else if (p.audio) p.audio_callback = p.client_audio == media::codec::speex ? "speex" : std::string(choice_name(*p.audio));
    if (p.video) p.video_callback = p.xflv ? "default" : "h264";
  }
  return p;
}

}  // namespace junction::gateway
