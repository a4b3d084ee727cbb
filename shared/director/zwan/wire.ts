/**
 * TypeScript shapes of the zWAN contract's bodies (`openapi.yaml` beside this file is the
 * source of truth; the contract test checks both sides against it). Shared by the adapter and
 * the simulator so the two cannot drift apart silently.
 */
import type { HaState, SiteName, SiteRole, TunnelState } from '../../domain/model.js';
import type { DirectorJob } from '../port.js';

/** Base path of the API below a director's host. */
export const ZWAN_API_PREFIX = '/api/v1';
/** The auth header. */
export const ZWAN_API_KEY_HEADER = 'X-Api-Key';
/** Most ids one bulk health call may carry. */
export const ZWAN_HEALTH_MAX_IDS = 500;
/** Largest page of `listCpes`. */
export const ZWAN_MAX_PAGE_SIZE = 1000;

export interface WireError {
  error: { code: string; message: string; [extra: string]: unknown };
}

export interface WireStaleEpoch {
  error: {
    code: 'STALE_EPOCH';
    message: string;
    haName: string;
    currentEpoch: number;
    requestedEpoch: number;
    /** Set when the epoch is the director's own but bound to another concentrator (one decision per epoch). */
    boundServingId?: string;
  };
}

/** 409 of a write (HA state, re-point, group re-point) to a director whose site role is PASSIVE. */
export interface WireDirectorPassive {
  error: { code: 'DIRECTOR_PASSIVE'; message: string; site: SiteName };
}

/** 409 of a branch re-point sent to a director that does not manage the branch. */
export interface WireNotManaged {
  error: { code: 'NOT_MANAGED'; message: string; branchId: string; managedBy: SiteName };
}

/** Any 409 of a fenced write. */
export type WireWriteConflict = WireStaleEpoch | WireDirectorPassive | WireNotManaged;

export interface WireDirectorHealth {
  site: SiteName;
  status: 'OK' | 'DEGRADED';
  role: SiteRole;
  version: string;
  time: string;
}

export interface WireSiteRole {
  site: SiteName;
  role: SiteRole;
}

export interface WireLan {
  name: string;
  cidr: string;
  virtualIp?: string;
}

export interface WireTunnel {
  name: string;
  haTunnelIdentifier?: string;
  tunnelId: string;
  state: TunnelState;
}

export interface WireCpe {
  id: string;
  name: string;
  tenantId: string;
  metadata: Record<string, string>;
  lans: WireLan[];
  tunnels: WireTunnel[];
  haRole?: HaState;
  onboardedBy: 'provisioning' | 'ssh';
  onboardedAt?: string;
}

export interface WireCpePage {
  items: WireCpe[];
  nextCursor?: string;
}

export interface WireHealthQuery {
  cpeIds: string[];
}

export interface WireWanHealth {
  name: string;
  publicIp?: string;
  lossPct: number;
  latencyMs?: number;
}

export interface WireCpeHealth {
  cpeId: string;
  alive: boolean;
  lastSeenAt?: string;
  wans: WireWanHealth[];
}

export interface WireHealthReport {
  at: string;
  results: WireCpeHealth[];
  unknownIds: string[];
}

export interface WireHaStateRequest {
  state: HaState;
  epoch: number;
}

export interface WireHaStateResult {
  cpeId: string;
  haName: string;
  state: HaState;
  epoch: number;
  changed: boolean;
}

export interface WireFenceRequest {
  epoch: number;
  /** The concentrator the epoch decides for: the same epoch for another one is then refused (409). */
  servingId?: string;
}

export interface WireFenceResult {
  haName: string;
  epoch: number;
}

export interface WireTunnelAssignment {
  haTunnelIdentifier: string;
  tunnelId: string;
}

export interface WireRepointRequest {
  targetCpeId: string;
  epoch: number;
  tunnels: WireTunnelAssignment[];
}

export interface WireRepointResult {
  branchId: string;
  targetCpeId: string;
  epoch: number;
  changed: boolean;
  tunnels: WireTunnel[];
}

export interface WireGroupUpdateRequest {
  targetCpeId?: string;
  epoch?: number;
}

/**
 * Why a group re-point left a branch (or part of it) where it was: `NOT_MANAGED`, the branch is
 * managed by the other site's director (`managedBy`); `NO_TUNNEL_FOR_IDENTIFIER`, the target has
 * no tunnel for one of the branch's HA tunnel identifiers.
 */
export type WireBranchFailureCode = 'NOT_MANAGED' | 'NO_TUNNEL_FOR_IDENTIFIER';

/** One branch's outcome of a group re-point; `error` (with `code`) when it was not (fully) moved. */
export interface WireGroupBranchResult {
  branchId: string;
  changed: boolean;
  code?: WireBranchFailureCode;
  error?: string;
  /** With NOT_MANAGED: the site whose director manages the branch. */
  managedBy?: SiteName;
}

export interface WireGroupUpdateResult {
  haName: string;
  targetCpeId: string;
  epoch?: number;
  branches: WireGroupBranchResult[];
}

export interface WireJobRequest {
  scope: 'msp';
  bucket: string;
  mspPrefix: string;
  elkPrefix: string;
  /** Idempotency key: a repeated start with it returns the job it started (200), never a second job. */
  clientToken: string;
}

/** Most characters of a job start's `clientToken`. */
export const ZWAN_CLIENT_TOKEN_MAX = 128;
/** What a job start's `clientToken` may contain. */
export const ZWAN_CLIENT_TOKEN_PATTERN = /^[A-Za-z0-9._:-]+$/;

/** 409 of a job start whose `clientToken` already started a different request. */
export interface WireClientTokenReused {
  error: { code: 'CLIENT_TOKEN_REUSED'; message: string; clientToken: string; jobId: string };
}

/** A backup or restore job as the API returns it: field for field the port's {@link DirectorJob}. */
export type WireJob = DirectorJob;

export interface WireManagementUrl {
  url: string;
}

export interface WireSshOnboardedCpe {
  id: string;
  name: string;
  tenantId: string;
  onboardedAt?: string;
}

export interface WireSshOnboardedPage {
  items: WireSshOnboardedCpe[];
  nextCursor?: string;
}
