#include "resolver/trust_anchor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/temp_dir.h"

namespace dnsvagt {
namespace {

class TrustAnchorTest : public ::testing::Test {
 protected:
  const TempDir temp_dir_{"dnsvagt-anchor-test"};
  const std::string directory_ = temp_dir_.path();
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(TrustAnchorTest, CreatesMissingFileAndDirectoryWithBothRootKeys) {
  std::string path = directory_ + "/sub/root.key";
  CreatedAnchor created = ensure_root_trust_anchor_file(path);
  EXPECT_TRUE(created.file);
  EXPECT_TRUE(created.directory);
  std::string text = read(path);
  EXPECT_NE(text.find(". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"),
            std::string::npos);
  EXPECT_NE(text.find(". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"),
            std::string::npos);
}

TEST_F(TrustAnchorTest, KeepsAnExistingFile) {
  std::string path = directory_ + "/root.key";
  std::ofstream(path) << "; managed\n";
  CreatedAnchor created = ensure_root_trust_anchor_file(path);
  EXPECT_FALSE(created.file);
  EXPECT_EQ(read(path), "; managed\n");
}

TEST_F(TrustAnchorTest, ReportsAnUncreatableDirectory) {
  std::ofstream(directory_ + "/file") << "x";
  EXPECT_THROW(ensure_root_trust_anchor_file(directory_ + "/file/root.key"), std::runtime_error);
}

TEST(TrustAnchorOwner, IsTheOwnerOfADsOrDnskeyLine) {
  EXPECT_EQ(trust_anchor_owner("Lab.Example. 3600 IN DS 1 8 2 ABCD"), "lab.example.");
  EXPECT_EQ(trust_anchor_owner("test. DNSKEY 257 3 8 AwEAAQ=="), "test.");
  EXPECT_EQ(trust_anchor_owner(". IN DS 20326 8 2 E06D"), ".");
  EXPECT_EQ(trust_anchor_owner("example. A 192.0.2.1"), "");
  EXPECT_EQ(trust_anchor_owner("not a record"), "");
}

TEST_F(TrustAnchorTest, FileOwnersAreEachAnchorZoneOnceInFileOrder) {
  std::string path = directory_ + "/anchors.key";
  std::ofstream(path) << "; anchors\n"
                         "$TTL 3600\n"
                         "Lab.Example. IN DS 1 8 2 ABCD\n"
                         "             IN DS 2 8 2 ( AB\n"
                         "                           CD )\n"
                         "$ORIGIN arpa.\n"
                         "home IN DS 3 8 2 ABCD\n"
                         "host.lab.example. IN A 192.0.2.1\n"
                         "lab.example. IN DNSKEY 257 3 8 AwEAAQ==\n";
  EXPECT_EQ(trust_anchor_file_owners(path),
            (std::vector<std::string>{"lab.example.", "home.arpa."}));
  EXPECT_EQ(trust_anchor_file_owners(directory_ + "/missing.key"), std::vector<std::string>{});
}

}  // namespace
}  // namespace dnsvagt
