#include "media/flv_file_writer.hpp"

#include <algorithm>
#include <cstring>

#include "media/flv.hpp"
#include "media/amf/amf0.hpp"

namespace junction::media::flv {
namespace {

// FLV codec ids as onMetaData names them (videocodecid / audiocodecid).
double video_codec_id(media::codec c) {
  switch (c) {
    case media::codec::sorenson_h263: return 2;
    case media::codec::screen_video: return 3;
    case media::codec::vp6: return 4;
    case media::codec::vp6_alpha: return 5;
    case media::codec::screen_video2: return 6;
    case media::codec::h264: return 7;
    default: return 0;
  }
}
double audio_codec_id(media::codec c) {
  switch (c) {
    case media::codec::mp3: return 2;
    case media::codec::nellymoser: return 6;
    case media::codec::g711a: return 7;
    case media::codec::g711u: return 8;
    case media::codec::aac: return 10;
    case media::codec::speex: return 11;
    default: return 0;
  }
}

void put_tag_header(std::vector<std::byte>& out, std::uint8_t type, std::size_t body, std::uint32_t ts) {
  const std::uint8_t h[11] = {type,
                              static_cast<std::uint8_t>(body >> 16), static_cast<std::uint8_t>(body >> 8), static_cast<std::uint8_t>(body),
                              static_cast<std::uint8_t>(ts >> 16), static_cast<std::uint8_t>(ts >> 8), static_cast<std::uint8_t>(ts),
                              static_cast<std::uint8_t>(ts >> 24), 0, 0, 0};
  for (auto b : h) out.push_back(std::byte{b});
}

void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
  for (int shift : {24, 16, 8, 0}) out.push_back(std::byte{static_cast<std::uint8_t>(v >> shift)});
}

}  // namespace

file_writer::file_writer(bool audio, bool video, settings s) : audio_(audio), video_(video), s_(s) {}

std::vector<std::byte> file_writer::metadata(bool final) const {
  // The source's own properties first (width, height, framerate, encoder...), then ours, which
  // describe the file as written.
  std::vector<media::amf::member> props;
  if (!source_metadata_.empty()) {
    std::vector<media::amf::value> values;
    if (!media::amf::decode_amf0(source_metadata_.bytes(), values)) {
      for (const auto& v : values)
        if (v.type == media::amf::type::ecma_array || v.type == media::amf::type::object)
          for (const auto& m : v.members)
            if (m.name != "duration" && m.name != "filesize" && m.name != "keyframes") props.push_back(m);
    }
  }
  const double duration = (last_timestamp_ - first_timestamp_) / 1000.0;
  auto set = [&props](const std::string& name, media::amf::value v) {
    auto it = std::find_if(props.begin(), props.end(), [&](const media::amf::member& m) { return m.name == name; });
    if (it != props.end()) it->value = std::move(v);
    else props.push_back({name, std::move(v)});
  };
  set("duration", media::amf::value::make_number(final ? duration : 0));
  set("filesize", media::amf::value::make_number(final ? static_cast<double>(position_) : 0));
  if (video_) set("videocodecid", media::amf::value::make_number(video_codec_id(video_codec_)));
  if (audio_) set("audiocodecid", media::amf::value::make_number(audio_codec_id(audio_codec_)));
  if (final && duration > 0) {
    set("videodatarate", media::amf::value::make_number(video_bytes_ * 8 / 1000.0 / duration));
    set("audiodatarate", media::amf::value::make_number(audio_bytes_ * 8 / 1000.0 / duration));
  }
  // The index, thinned evenly until it fits the room reserved for it.
  std::size_t step = 1;
  for (;;) {
    std::vector<media::amf::value> times, positions;
    for (std::size_t i = 0; final && i < keyframe_times_.size(); i += step) {
      times.push_back(media::amf::value::make_number(keyframe_times_[i]));
      positions.push_back(media::amf::value::make_number(keyframe_positions_[i]));
    }
    auto with_index = props;
    with_index.push_back({"keyframes", media::amf::value::make_object({{"filepositions", media::amf::value::make_strict_array(positions)},
                                                                {"times", media::amf::value::make_strict_array(times)}})});
    const std::size_t target = s_.metadata_reserve - tag_header_size - previous_tag_size_field;
    std::vector<std::byte> body;
    media::amf::encode_amf0(media::amf::value::make_string("onMetaData"), body);
    media::amf::encode_amf0(media::amf::value::make_ecma_array(with_index), body);
    // The room left over becomes one more property, "padding", holding an array of nulls (one
    // byte each), written in place before the array's end marker (00 00 09): legal AMF that
    // readers walk past. Bytes after the array would be read as more values by some readers,
    // and ffmpeg refuses strings over 1 KiB.
    constexpr std::size_t padding_overhead = 2 + 7 + 1 + 4;  // name length, name, marker, count
    if (body.size() + padding_overhead <= target) {
      const std::size_t nulls = target - body.size() - padding_overhead;
      std::vector<std::byte> padding{std::byte{0}, std::byte{7}};
      for (char c : std::string_view("padding")) padding.push_back(std::byte(c));
      padding.push_back(std::byte{0x0A});  // strict array
      put_u32(padding, static_cast<std::uint32_t>(nulls));
      padding.resize(padding.size() + nulls, std::byte{0x05});
      body.insert(body.end() - 3, padding.begin(), padding.end());
    }
    if (body.size() == target || (body.size() < target && step > keyframe_times_.size())) {
      body.resize(target);  // only when even an empty index leaves too little room to pad
      std::vector<std::byte> tag;
      put_tag_header(tag, 18, body.size(), 0);
      tag.insert(tag.end(), body.begin(), body.end());
      put_u32(tag, static_cast<std::uint32_t>(tag_header_size + body.size()));
      return tag;
    }
    step *= 2;
  }
}

std::vector<std::byte> file_writer::begin() {
  auto header = file_header(audio_, video_);
  std::vector<std::byte> out(header.begin(), header.end());
  metadata_offset_ = out.size();
  auto placeholder = metadata(false);
  out.insert(out.end(), placeholder.begin(), placeholder.end());
  position_ = out.size();
  return out;
}

shared_buffer file_writer::write(const frame& f) {
  if (f.track == track::data) {
    source_metadata_ = f.payload;
    return {};
  }
  if (!started_) {
    started_ = true;
    first_timestamp_ = f.timestamp;
  }
  frame rebased = f;
  rebased.timestamp = f.timestamp - first_timestamp_;
  last_timestamp_ = std::max(last_timestamp_, f.timestamp);
  if (f.is_video()) {
    video_bytes_ += f.payload.size();
    if (!f.config) video_codec_ = f.codec;
    if (f.keyframe && !f.config) {
      keyframe_times_.push_back(rebased.timestamp / 1000.0);
      keyframe_positions_.push_back(static_cast<double>(position_));
    }
  } else if (f.is_audio()) {
    audio_bytes_ += f.payload.size();
    audio_codec_ = f.codec;
  }
  shared_buffer t = tag(rebased);
  position_ += t.size();
  return t;
}

file_patch file_writer::finish() { return {metadata_offset_, metadata(true)}; }

}  // namespace junction::media::flv
