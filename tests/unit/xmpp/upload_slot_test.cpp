#include "xmpp/upload_slot.hpp"

#include <gtest/gtest.h>

namespace junction::xmpp {
namespace {

TEST(UploadSlot, FileNamesAreMadeSafe) {
  EXPECT_EQ(upload_file_name("photo.jpg"), "photo.jpg");
  EXPECT_EQ(upload_file_name("../../etc/passwd"), "passwd");
  EXPECT_EQ(upload_file_name("..\\x.txt"), "x.txt");
  EXPECT_EQ(upload_file_name("..."), "file");
  EXPECT_EQ(upload_file_name("a b/ü?.png"), "___.png");  // each byte of ü
  EXPECT_EQ(upload_file_name(std::string(300, 'a')).size(), 100u);
  EXPECT_EQ(upload_file_name(""), "file");
}

TEST(UploadSlot, AnOwnersFolderIsStableAndSaysNothingOfTheName) {
  const auto k = upload_owner_key("s", "alice@example.com");
  EXPECT_EQ(k.size(), 16u);
  EXPECT_EQ(k, upload_owner_key("s", "alice@example.com"));
  EXPECT_NE(k, upload_owner_key("s", "bob@example.com"));
  EXPECT_EQ(k.find("alice"), std::string::npos);
}

TEST(UploadSlot, ASignedGrantIsCheckedAndAnythingChangedIsRefused) {
  upload_grant g{"/upload/0123456789abcdef/slot/a.png", 1234, "image/png", 2000};
  const std::string q = upload_query("secret", g);
  auto ok = upload_check("secret", g.path, q, "image/png", 1999);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size, 1234u);
  EXPECT_FALSE(upload_check("secret", g.path, q, "image/png", 2001));          // expired
  EXPECT_FALSE(upload_check("other", g.path, q, "image/png", 1999));           // another secret
  EXPECT_FALSE(upload_check("secret", g.path + "x", q, "image/png", 1999));    // another path
  EXPECT_FALSE(upload_check("secret", g.path, q, "text/html", 1999));          // another type
  std::string bigger = q;
  bigger.replace(bigger.find("1234"), 4, "9999");
  EXPECT_FALSE(upload_check("secret", g.path, bigger, "image/png", 1999));     // another size
  EXPECT_FALSE(upload_check("secret", g.path, "size=1234&expires=2000", "image/png", 1999));
  // A slot that named no type takes a PUT with any.
  upload_grant untyped{g.path, 5, "", 2000};
  EXPECT_TRUE(upload_check("secret", g.path, upload_query("secret", untyped), "application/octet-stream", 1999));
}

}  // namespace
}  // namespace junction::xmpp
