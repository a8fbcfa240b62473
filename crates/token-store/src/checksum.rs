//! CRC-32 (the ISO-HDLC / zlib / PNG polynomial), the token checksum.
//!
//! Written here rather than pulled from a crate: it is twenty lines, fixed by a standard
//! test vector, and the only CRC this crate needs. The checksum is not a security
//! feature. It detects typos and truncation before a database lookup, and lets a secret
//! scanner tell a real Spark token from a look-alike without asking Spark. CRC-32 detects
//! every error burst of up to 32 bits, so any single changed character (6 bits) or two
//! swapped neighbouring characters (12 bits) always fail the check.

const POLYNOMIAL: u32 = 0xEDB8_8320;

const TABLE: [u32; 256] = make_table();

#[allow(
    clippy::indexing_slicing,
    reason = "const evaluation: an out-of-bounds index fails the build, it cannot panic at run time"
)]
const fn make_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 == 1 {
                POLYNOMIAL ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
}

/// CRC-32 of the concatenation of `parts`.
pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &byte in *part {
            let [low, ..] = crc.to_le_bytes();
            let entry = TABLE.get(usize::from(low ^ byte)).copied().unwrap_or(0);
            crc = (crc >> 8) ^ entry;
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn standard_check_value() {
        // The "check" value of CRC-32/ISO-HDLC in the CRC catalogue.
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[b"1234", b"", b"56789"]), 0xCBF4_3926);
        assert_eq!(crc32(&[]), 0);
    }
}
