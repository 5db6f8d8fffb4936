//! Which peers may pass `X-Forwarded-*` headers on: addresses and networks.

use std::net::IpAddr;

/// Addresses and CIDR networks of trusted proxies.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses `10.0.0.7`, `10.0.0.0/8`, `::1`, `fd00::/8`; the first entry that is
    /// neither is returned as the error.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let (addr, bits) = entry.split_once('/').unwrap_or((entry, ""));
                let addr: IpAddr = addr.trim().parse().map_err(|_| entry.clone())?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let bits = match bits {
                    "" => max,
                    bits => bits
                        .parse()
                        .ok()
                        .filter(|b| *b <= max)
                        .ok_or_else(|| entry.clone())?,
                };
                Ok((addr, bits))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `peer` is one of them (IPv4-mapped IPv6 peers count as IPv4).
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.0.iter().any(|&(net, bits)| match (net, peer) {
            (IpAddr::V4(net), IpAddr::V4(peer)) => prefix_eq(
                u128::from(net.to_bits()) << 96,
                u128::from(peer.to_bits()) << 96,
                bits,
            ),
            (IpAddr::V6(net), IpAddr::V6(peer)) => prefix_eq(net.to_bits(), peer.to_bits(), bits),
            _ => false,
        })
    }
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn prefix_eq(a: u128, b: u128, bits: u8) -> bool {
    bits == 0 || (a ^ b) >> (128 - u32::from(bits)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_networks_match_their_peers() {
        let trusted =
            TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.7".into(), "fd00::/8".into()])
                .expect("parse");
        for (peer, expected) in [
            ("10.1.2.3", true),
            ("11.0.0.1", false),
            ("192.168.1.7", true),
            ("192.168.1.8", false),
            ("fd12::1", true),
            ("fe80::1", false),
            ("::ffff:10.0.0.1", true),
            ("127.0.0.1", false),
        ] {
            assert_eq!(
                trusted.contains(peer.parse().expect("ip")),
                expected,
                "{peer}"
            );
        }
        assert!(
            TrustedProxies::parse(&["0.0.0.0/0".into()])
                .expect("all")
                .contains("8.8.8.8".parse().expect("ip"))
        );
        for bad in ["10.0.0.0/33", "10.0.0", "host", "10.0.0.0/x"] {
            assert_eq!(
                TrustedProxies::parse(&[bad.into()]).err().as_deref(),
                Some(bad)
            );
        }
    }
}
