// libsecp256k1 from Debian (libsecp256k1-dev): Bitcoin Core's own implementation of the curve.
#include <secp256k1.h>
