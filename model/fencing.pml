/*
 * fencing.pml: election + epoch fencing of cpe-failover, checked exhaustively with spin.
 * Run model/check.sh (npm run check:model); model/README.md says what it covers.
 *
 * One HA group. The processes (see ../shared/DESIGN.md, "Health and election, precisely"):
 *
 *   Decider x2  the stream-triggered failover function and the drift reconcile / console, racing.
 *               Each loops: 1. read health and site roles, elect (never a DOWN candidate; none
 *               UP: hold, do nothing); 2. read the group record {serving, epoch}; 3. if election
 *               gives another serving, compare-and-set epoch -> epoch + 1 with it (a lost CAS
 *               restarts the loop); then fan out for epoch e through the director of the ACTIVE
 *               site: 4. read the role and send fence(e); 5. wait for the fence's ack; 6. THEN
 *               list the branch placement and send repoint(b, e) for every branch not on
 *               serving(e); 7. wait for the acks. It can crash or time out after any step that
 *               has an effect (the CAS, a send) and restart from the top with no memory; a crash
 *               between two reads is the same as a crash after the step before them.
 *   Director x2 the DC director (0) and the DR director (1). Each keeps its OWN highest seen
 *               epoch for the group and applies fence(e) / repoint(b, e) only if it is not
 *               PASSIVE and e >= that epoch, raising it to e; it refuses older ones (409), and a
 *               PASSIVE (fenced) director refuses every write (503). setHaState is fenced the
 *               same way as a repoint and is not modelled separately.
 *   Switch      the DR workflow: a switchover DC -> DR and, with NSWITCH 2, the failback. A role
 *               change first fences the old director (PASSIVE), then gives the new director the
 *               newest stored epoch, and only then unfences the new director and flips the role.
 *   Health      the environment: flips any candidate UP <-> DOWN, at most HFLIPS times (a flip is
 *               the transition the health-check function writes after its hysteresis).
 *   World       loc[b], the concentrator each branch's tunnels end on: one world for both
 *               directors; a repoint applied by either moves the branch, a listing reads it.
 *
 * The network between deciders and directors: a bag with set semantics, one bit per epoch per
 * director (fence) and per director and branch (repoint). A director takes any request in flight
 * (reordering); the network may deliver it and keep it in flight to be delivered again later
 * (duplication) or lose it. The repoint carries (branch, epoch); its target is servOf[e], the
 * serving written with epoch e, which is what every decider holding e sends.
 *
 * Abstracted away: time, timeouts and rate limits; the health hysteresis itself, MONITOR_BLIND,
 * pins, preempt: false; DynamoDB beyond a strongly consistent read and a single-item conditional
 * write; the directors' APIs, Meraki tags, tunnels (one repoint per branch), the outbox and
 * notices; other groups (every epoch and fence is per group).
 *
 * Bounds: NC candidates (3: DC1, DC2, DR; or 2: DC1, DR), 2 branches, 2 deciders, 2 directors,
 * HFLIPS health flips, NSWITCH role changes, epochs below MAXE (an assert says if a run needs
 * more). Faults (crashes, timeouts, lost and duplicated messages) are unbounded for the safety
 * properties; for the liveness property the model is built with -DK=<n>: at most n faults.
 *
 * Properties (the ltl blocks at the end; check one with ./pan -a [-f] -N <name>):
 *   S1  no stale action lands: no director applies an action with an epoch lower than the
 *       highest it has seen for the group.
 *   S2  never elect a DOWN candidate: every CAS that changes serving writes a candidate that was
 *       UP (and eligible) in the health that decider read; never a change when none was UP.
 *   S3  once a fan-out for epoch e has completed (all acks in) and the stored epoch is still e,
 *       every branch is on serving(e) ("fence, then read").
 *   L3  liveness (-DK, ./pan -a -f): eventually and for ever, the stored serving is what
 *       election gives for the real health and every branch is on it (or none is UP).
 *
 * Bug switches (model/check.sh expects each to fail):
 *   READ_BEFORE_FENCE  the fan-out lists the branches before it fences: S3 fails.
 *   NO_DIRECTOR_FENCE  directors apply any epoch (no per-director highest-seen check): S1 fails.
 *   SWITCH_NO_FENCE    a role change does not fence the old director: S3 fails.
 *   SWITCH_NO_SEED     a role change fences the old director but does not give the new one the
 *                      newest epoch: S3 fails (a decider still holding an older epoch fans out
 *                      through the new director after a newer fan-out completed on the old one).
 *   NO_HOLD            with none UP, election takes the first eligible candidate anyway: S2.
 */

#ifndef NC
#define NC 3
#endif
#ifndef HFLIPS
#define HFLIPS 1
#endif
#ifndef NSWITCH
#define NSWITCH 1
#endif

#define NB    2    /* branches */
#define ND    2    /* deciders */
#define NDIR  2    /* directors */
#define DC    0    /* the DC site and its director */
#define DR    1    /* the DR site and its director */
#define NONE  255  /* no candidate */
#define MAXE  15   /* epochs 0..14 fit the 16-bit sets below */

/* bit sets over epochs */
#define HAS(m, x) ((((m) >> (x)) & 1) == 1)
#define SET(m, x) m = ((m) | (1 << (x)))
#define CLR(m, x) m = ((m) & (32767 - (1 << (x))))
#define MAX(a, b) ((a) > (b) -> (a) : (b))

/*
 * Election: the first UP candidate in failover order, skipping the candidates of a site whose
 * role is PASSIVE (electionSiteRoles: with DC ACTIVE the standby DR is eligible too; after a
 * switchover only DR is). NONE when no eligible candidate is UP: hold.
 */
#ifdef NO_HOLD
#define NOTUP ((role == DC) -> 0 : NC - 1)  /* BUG: none UP, take the first eligible anyway */
#else
#define NOTUP NONE
#endif
#if NC == 3
#define ELECT ((role == DC && up[0]) -> 0 : ((role == DC && up[1]) -> 1 : (up[2] -> 2 : NOTUP)))
#else
#define ELECT ((role == DC && up[0]) -> 0 : (up[1] -> 1 : NOTUP))
#endif

/* ---- faults ---- */
#ifdef K
byte budget = K;                       /* faults left: crashes, timeouts, lost/duplicate messages */
#define FAULT (budget > 0) -> budget--
#else
#define FAULT true                     /* unbounded */
#endif

/* ---- the store: the group record, conditional on its epoch ---- */
byte stServing = 0;                    /* DC1 */
byte stEpoch = 1;
byte servOf[MAXE];                     /* servOf[e]: the serving written with epoch e */
byte role = DC;                        /* the ACTIVE site (its director carries the fan-outs) */

/* ---- the directors ---- */
bool passive[NDIR];                    /* fenced: refuses every write */
byte seen[NDIR];                       /* each director's own highest seen epoch for the group */

/* ---- the world ---- */
byte loc[NB];                          /* the concentrator each branch is on */
bool up[NC];

/* ---- the network: bags with set semantics, one bit per epoch ---- */
short fReq[NDIR];                      /* fence(e) in flight to director d */
short rReq[NDIR * NB];                 /* repoint(b, e) in flight to director d: [d * NB + b] */

/*
 * State-space reduction, exact: a director fenced for the last time in this run (`retired`) can
 * only refuse, so no request to it is kept in flight, and a decider's send to it is a no-op.
 */
bool retired[NDIR];
inline retire(x) {
  retired[x] = true; fReq[x] = 0; rReq[x * NB + 0] = 0; rReq[x * NB + 1] = 0
}
#define SEND(m, x) if :: !retired[dir] -> SET(m, x) :: else -> skip fi

/* ---- ghosts (observation only) ---- */
bool s1bad;                            /* a director applied an action older than its epoch */
bool s2bad;                            /* a CAS wrote a serving that was not UP in the read */
bool done;                             /* a fan-out for the stored epoch has completed */
byte want;                             /* ELECT over the real health and roles (for L3) */

#define ON(s) (loc[0] == (s) && loc[1] == (s))

/* ================================================================================== Decider */

/* restart from the top with no memory: a crash, a timeout, a lost CAS, a refusal, the next loop */
#define RESTART  e = 0; srv = 0; nsrv = 0; dir = 0; need = 0; upr = false; goto top
#define CRASH    :: atomic { FAULT -> RESTART }

/* the placement listing: which branches are not on srv */
#define LIST     need = (loc[0] != srv -> 1 : 0) + (loc[1] != srv -> 2 : 0)

/*
 * Replies. A director's answer reports its state after the request, so a decider's wait is
 * written over that state: the fence is acknowledged once the director holds epoch >= e (which
 * stays true), a repoint once the branch is on srv (the decider takes the ack at that moment and
 * clears the branch from `need`; it may complete later). The wait gives up (the 409 / 503 /
 * timeout case) when the request is no longer in flight and the answer is not there, or at any
 * time (crash, timeout, which is also what a lost reply looks like). For the safety properties,
 * where a decider may give up at any time, reading the answer from the state only adds runs
 * (e.g. going on after another decider's identical request); it removes none.
 */
#define FENCED       (seen[dir] >= e)
#define FENCE_GONE   (!FENCED && !HAS(fReq[dir], e))
#define ACK(b)       (HAS(need, b) && loc[b] == srv)
#define RP_GONE(b)   (HAS(need, b) && loc[b] != srv && !HAS(rReq[dir * NB + b], e))

proctype Decider(byte i) {
  byte e, srv, nsrv, dir, need;        /* epoch and serving held, elected, director, to repoint */
  bool upr;                            /* ghost: nsrv was UP in the health this decider read */

top:
  /* 1. read health and site roles; elect (NONE: none eligible is UP) */
  atomic { nsrv = ELECT; upr = (nsrv == NONE -> false : up[nsrv]) };
  /* 2. read the group record {serving, epoch} */
  atomic {
    e = stEpoch; srv = stServing;
    if
    :: nsrv == NONE -> RESTART                 /* none UP: hold, change nothing */
    :: nsrv == srv -> nsrv = 0; upr = false; goto fanout   /* no change: fan out for it */
    :: else -> skip
    fi
  };
  /* 3. a change of serving: compare-and-set on the epoch */
  atomic {
    if
    :: stEpoch == e ->                         /* CAS won: epoch + 1 with the new serving */
       assert(e + 1 < MAXE);
       if :: nsrv == NONE || !upr -> s2bad = true :: else -> skip fi;
       e++; stEpoch = e; stServing = nsrv; servOf[e] = nsrv; srv = nsrv; done = false;
       nsrv = 0; upr = false
    :: else -> RESTART                         /* lost CAS: start again */
    fi
  };

  /* 4. fan out for epoch e through the ACTIVE site's director: fence(e) first */
fanout:
  if
  CRASH
  :: d_step {
       dir = role;
#ifdef READ_BEFORE_FENCE
       LIST;                                   /* BUG: plan from a view read before the fence */
#endif
#ifdef NO_DIRECTOR_FENCE
       SEND(fReq[dir], e)
#else
       if :: e > seen[dir] -> SEND(fReq[dir], e) :: else -> skip fi  /* else: already fenced */
#endif
     }
  fi;
  /* 5. wait for the fence's ack; 6. THEN list the branches and repoint(b, e) every branch not
   * on srv */
  if
  CRASH
  :: atomic { FENCE_GONE -> RESTART }         /* refused (409 / 503) or lost */
  :: d_step {
       FENCED ->
#ifndef READ_BEFORE_FENCE
       LIST;
#endif
       if :: HAS(need, 0) -> SEND(rReq[dir * NB + 0], e) :: else -> skip fi;
       if :: HAS(need, 1) -> SEND(rReq[dir * NB + 1], e) :: else -> skip fi
     }
  fi;
  /* 7. wait for the repoints' acks */
  do
  CRASH
  :: atomic { (RP_GONE(0) || RP_GONE(1)) -> RESTART }    /* refused or lost */
  :: d_step { ACK(0) -> CLR(need, 0) }
  :: d_step { ACK(1) -> CLR(need, 1) }
  :: atomic {
       need == 0 ->                            /* every ack in: the fan-out for e is complete */
       if :: e == stEpoch -> done = true :: else -> skip fi;
       RESTART
     }
  od
}

/* ================================================================================= Director */

/* choose any epoch whose bit is set in m (m != 0): requests are taken in any order */
inline pick(m) {
  e = 0;
  do
  :: !HAS(m, e) -> e++
  :: HAS(m, e) -> break
  :: HAS(m, e) && ((m) >> (e + 1)) != 0 -> e++
  od
}

/*
 * What the network does with the request taken: delivered; delivered and duplicated (it stays
 * in flight and can be delivered again, any time later); lost. For the safety properties two of
 * these are left out because other runs already cover them exactly: a lost request is a request
 * that is never taken (and its decider times out), and a second delivery of a fence changes
 * nothing a first delivery left later would not (once accepted, the director's epoch is >= e;
 * once refused, nothing changed). Duplicated repoints are kept: a second delivery can move a
 * branch again. With -DK (liveness) every fault is possible and counted.
 */
inline network(m, dup) {
  if
  :: CLR(m, e); lost = false
#ifdef K
  :: FAULT -> lost = false
  :: FAULT -> CLR(m, e); lost = true
#else
  :: dup -> lost = false
#endif
  fi
}

/*
 * State-space reduction, exact for the correct director: a repoint in flight to director x with
 * an epoch below x's highest seen can only ever be refused, and a fence at or below it can only
 * be refused or change nothing; so they are taken out of the bag the moment x's epoch reaches
 * them (as if x had answered at once), and a decider does not send a fence x already has.
 * Without the epoch check (NO_DIRECTOR_FENCE) such requests are not dead and stay.
 */
#ifdef NO_DIRECTOR_FENCE
#define drop_dead(x) skip
#define FRESH true                     /* BUG: no per-director epoch check */
#else
#define LIVE(m, x, s) m = ((m) & ((32767 << (s)) & 32767))
#define drop_dead(x) \
  LIVE(fReq[x], x, seen[x] + 1); \
  LIVE(rReq[x * NB + 0], x, seen[x]); LIVE(rReq[x * NB + 1], x, seen[x])
#define FRESH (e >= seen[d])
#endif

/* the director applies: not PASSIVE, and e >= its own highest seen epoch; S1 ghost */
#define ACCEPT (!lost && !passive[d] && FRESH)
inline applied() {
  if :: e < seen[d] -> s1bad = true :: else -> skip fi;
  seen[d] = MAX(seen[d], e);
  drop_dead(d)
}

proctype Director(byte d) {
  byte e;
  bool lost;
  do
  :: atomic {                          /* fence(e) */
       fReq[d] != 0 ->
       pick(fReq[d]);
       network(fReq[d], false);
       if
       :: ACCEPT -> applied()
       :: else -> skip                 /* 409 (older epoch), 503 (PASSIVE), or lost */
       fi;
       e = 0; lost = false
     }
  :: atomic {                          /* repoint(0, e) */
       rReq[d * NB + 0] != 0 ->
       pick(rReq[d * NB + 0]);
       network(rReq[d * NB + 0], true);
       if
       :: ACCEPT -> applied(); loc[0] = servOf[e]   /* the branch moves, in the one world */
       :: else -> skip
       fi;
       e = 0; lost = false
     }
  :: atomic {                          /* repoint(1, e) */
       rReq[d * NB + 1] != 0 ->
       pick(rReq[d * NB + 1]);
       network(rReq[d * NB + 1], true);
       if
       :: ACCEPT -> applied(); loc[1] = servOf[e]
       :: else -> skip
       fi;
       e = 0; lost = false
     }
  od
}

/* ============================================================================== Environment */

proctype Health() {
  byte n;
  do
  :: n < HFLIPS ->
     atomic {
       if
       :: up[0] = !up[0]
       :: up[1] = !up[1]
#if NC == 3
       :: up[2] = !up[2]
#endif
       fi;
       n++;
       want = ELECT
     }
  :: else -> break
  od
}

/*
 * One role change from site `from` to site `to`; `last`: `from` is never unfenced again in this
 * run. Step 2 reads the stored epoch and writes it to the new director in one step, and step 3
 * unfences the new director and flips the role in one step: in both windows the only fan-outs
 * that could act go through the old director, which is already fenced.
 */
inline roleChange(from, to, last) {
#ifndef SWITCH_NO_FENCE
  d_step {                             /* 1. fence the old director: it refuses every write */
    passive[from] = true;
    if :: last -> retire(from) :: else -> skip fi
  };
#endif
#ifndef SWITCH_NO_SEED
  d_step {                             /* 2. the new director learns the newest stored epoch */
    seen[to] = MAX(seen[to], stEpoch); drop_dead(to)
  };
#endif
  d_step {                             /* 3. unfence the new director; only then flip the role */
    passive[to] = false; role = to; want = ELECT
  }
}

proctype Switch() {
#if NSWITCH > 0
  roleChange(DC, DR, NSWITCH == 1);    /* switchover DC -> DR */
#endif
#if NSWITCH > 1
  roleChange(DR, DC, true);            /* failback DR -> DC */
#endif
}

init {
  atomic {
    up[0] = true; up[1] = true;
#if NC == 3
    up[2] = true;
#endif
    passive[DR] = true;                /* DC is ACTIVE, the DR director PASSIVE */
    seen[DC] = 1;                      /* the DC director has applied epoch 1 */
    servOf[1] = 0;                     /* epoch 1: DC1 serves, every branch on it: its fan-out */
    done = true;                       /* is complete */
    want = ELECT;
    run Decider(0); run Decider(1);
    run Director(DC); run Director(DR);
    run Health(); run Switch()
  }
}

/* ================================================================================ Properties */

ltl S1 { [] !s1bad }
ltl S2 { [] !s2bad }
ltl S3 { [] (!done || ON(stServing)) }
ltl L3 { <> [] (want == NONE || (stServing == want && ON(want))) }
