//! Tests of fault plans and of the injector alone (the frame loop over an
//! injector is tested in `frame::tests`).

use super::*;
use crate::camera::Replay;

#[test]
fn plans_round_trip_and_bad_ones_say_why() {
    for text in [
        "none",
        "1:short@5",
        "0:stall@0,3:overrun@2,9:bus@1",
        "random/7/100",
    ] {
        assert_eq!(Plan::parse(text).unwrap().to_string(), text);
    }
    let reason = |t: &str| match Plan::parse(t) {
        Err(Error::Recording { reason }) => reason,
        other => panic!("{t}: {other:?}"),
    };
    assert!(reason("1:short").contains("FRAME:KIND@LINE"));
    assert!(reason("x:short@1").contains("FRAME"));
    assert!(reason("1:melt@1").contains("short, missing"));
    assert!(reason("1:bus@y").contains("LINE"));
    assert!(reason("1:bus@1,1:short@2").contains("twice"));
    assert!(reason("random/7").contains("SEED/PERMILLE"));
    assert!(reason("random/7/1001").contains("0 to 1000"));
    assert!(reason("random/-1/5").contains("SEED"));
    assert!(reason("").contains("FRAME:KIND@LINE"));
    let plan = Plan::parse("2:missing@9").unwrap();
    assert!(plan.check(10).is_ok());
    assert!(plan.check(9).is_err());
    assert!(Plan::parse("2:overrun@99").unwrap().check(9).is_ok());
}

#[test]
fn random_plans_are_seeded_and_cover_every_kind() {
    let plan = Plan::parse("random/42/100").unwrap();
    let faults: Vec<(u32, Injection)> = (0..1000)
        .filter_map(|f| plan.at(f, 24).map(|i| (f, i)))
        .collect();
    // The same seed, the same plan; another seed, another.
    let again: Vec<(u32, Injection)> = (0..1000)
        .filter_map(|f| plan.at(f, 24).map(|i| (f, i)))
        .collect();
    assert_eq!(faults, again);
    let other = Plan::parse("random/43/100").unwrap();
    assert!((0..1000).any(|f| other.at(f, 24) != plan.at(f, 24)));
    assert!((60..140).contains(&faults.len()), "{}", faults.len());
    for kind in Kind::ALL {
        assert!(faults.iter().any(|(_, i)| i.kind == kind), "{kind:?}");
    }
    assert!(faults.iter().all(|(_, i)| i.line < 24));
    assert!(faults.iter().any(|(_, i)| i.line == 0));
    assert!(faults.iter().any(|(_, i)| i.line == 23));
    assert_eq!(Plan::parse("random/42/0").unwrap().at(5, 24), None);
    assert!((0..50).all(|f| Plan::parse("random/1/1000").unwrap().at(f, 24).is_some()));
}

/// A delay that only adds up what it was asked to sleep.
struct Slept(u64);

impl DelayNs for Slept {
    fn delay_ns(&mut self, ns: u32) {
        self.0 += u64::from(ns);
    }
}

const BUDGET: Budget = Budget {
    timeout_ms: 20,
    poll_ms: 5,
};

/// What each `next_line` of a frame returned: its bytes, or the error.
type Lines = Vec<Result<Vec<u8>, Error>>;

/// Frame 0 of a 4-line, 4-byte-per-line replay broken by `plan`: what each
/// `next_line` returned (its bytes, or the error).
fn lines_of(plan: &str) -> (Result<Geometry, Error>, Lines, u64) {
    let data: Vec<u8> = (0..16).collect();
    let mut replay = Replay::<4>::new(&data, 4, 4);
    let mut cam = Injector::new(&mut replay, Plan::parse(plan).unwrap(), Slept(0), BUDGET);
    let g = cam.begin_frame();
    let lines = (0..4)
        .map(|_| cam.next_line().map(<[u8]>::to_vec))
        .collect();
    cam.end_frame().unwrap();
    (g, lines, cam.delay.0)
}

#[test]
fn each_kind_breaks_its_line_as_a_camera_would() {
    let ok = |v: &[u8]| Ok(v.to_vec());
    let (_, lines, _) = lines_of("0:short@1");
    assert_eq!(lines[1], ok(&[4, 5]));
    assert_eq!(lines[2], ok(&[8, 9, 10, 11]));
    // Line 1 lost: lines 2 and 3 move up, and the frame ends a line early.
    let (_, lines, _) = lines_of("0:missing@1");
    assert_eq!(
        lines,
        vec![
            ok(&[0, 1, 2, 3]),
            ok(&[8, 9, 10, 11]),
            ok(&[12, 13, 14, 15]),
            ok(&[])
        ]
    );
    let (_, lines, _) = lines_of("0:bus@3");
    assert_eq!(lines[3], Err(Error::Spi));
    let (g, _, _) = lines_of("0:overrun@0");
    assert_eq!(
        g,
        Err(Error::FifoOverrun {
            expected: 16,
            found: 25
        })
    );
    let (_, lines, _) = lines_of("1:bus@0");
    assert!(lines.iter().all(Result::is_ok));
}

#[test]
fn a_stall_is_a_bounded_wait_never_a_hang() {
    let (_, lines, slept_ns) = lines_of("0:stall@2");
    assert_eq!(lines[2], Err(Error::Timeout { waited_ms: 20 }));
    // 20 ms slept in 5 ms polls, then given up.
    assert_eq!(slept_ns, 20_000_000);
}
