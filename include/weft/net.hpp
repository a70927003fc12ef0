#pragma once
// weft::net: TCP and UDP over the runtime's reactor.

#include "weft/net/connect.hpp"
#include "weft/net/tcp_listener.hpp"
#include "weft/net/tcp_stream.hpp"
#include "weft/net/udp_socket.hpp"
