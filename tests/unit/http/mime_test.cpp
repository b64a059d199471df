#include "http/mime.hpp"

#include <gtest/gtest.h>

namespace junction::http {
namespace {

TEST(mime, by_extension_case_insensitive) {
  EXPECT_EQ(mime_type_for("/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for("/a/b.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for("x.png"), "image/png");
  EXPECT_EQ(mime_type_for("live.flv"), "video/x-flv");
  EXPECT_EQ(mime_type_for("app.wasm"), "application/wasm");
  EXPECT_EQ(mime_type_for("v.m3u8"), "application/vnd.apple.mpegurl");
}

TEST(mime, unknown_is_octet_stream) {
  for (auto p : {"/README", "/a.b/c", "/x.", "/x.unknownext", "/x.verylongextension"})
    EXPECT_EQ(mime_type_for(p), "application/octet-stream") << p;
}

}  // namespace
}  // namespace junction::http
