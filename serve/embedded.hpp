// The files wtasim serve sends from memory (compiled in by cmake/embed_files.cmake): the dashboard's page,
// script and style sheet, and the OpenAPI description of the API.
#pragma once

#include <string_view>

namespace wtasim::serve {

// The text of the file `name` ("index.html", "app.js", "style.css", "openapi.json"); empty when unknown.
std::string_view embedded_file(std::string_view name);

}  // namespace wtasim::serve
