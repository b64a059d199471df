#pragma once
#include <string_view>

namespace junction::http {

// The Content-Type for a file, by its extension (case-insensitive); text types carry charset=utf-8.
// Unknown extensions are application/octet-stream, so a browser downloads rather than guesses.
std::string_view mime_type_for(std::string_view path);

}  // namespace junction::http
