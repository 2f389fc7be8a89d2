import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  InvalidInvitationError,
  InvalidTokenError,
  MissingTokenError,
  StoreUnavailableError,
  UserNotProvisionedError,
} from './errors';
import { toHttpResponse } from './http';

describe('toHttpResponse', () => {
  it('keeps status, challenge headers and public code of SDK errors', () => {
    expect(toHttpResponse(new MissingTokenError())).toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer', 'content-type': 'application/json' },
      body: { error: 'missing_token' },
    });
    expect(toHttpResponse(new InvalidTokenError('expired'))).toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      body: { error: 'invalid_token' },
    });
    expect(toHttpResponse(new UserNotProvisionedError())).toMatchObject({
      status: 403,
      body: { error: 'user_not_provisioned' },
    });
    expect(toHttpResponse(new StoreUnavailableError())).toMatchObject({
      status: 503,
      headers: { 'Retry-After': '5' },
      body: { error: 'provisioning_unavailable' },
    });
    expect(toHttpResponse(new InvalidInvitationError('invitation_expired')).body.error).toBe(
      'invalid_invitation',
    );
  });

  it('does not reveal the reason of an invalid token', () => {
    const body = toHttpResponse(new InvalidTokenError('expired')).body;
    expect(JSON.stringify(body)).not.toContain('expired');
  });

  it('answers anything else with a bare 500', () => {
    const response = toHttpResponse(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'));
    expect(response).toEqual({
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: { error: 'server_error', error_description: 'Internal server error' },
    });
    expect(toHttpResponse('string thrown').status).toBe(500);
    expect(toHttpResponse(undefined).status).toBe(500);
  });

  it('keeps the code but not the message of server-side configuration errors', () => {
    const response = toHttpResponse(new ConfigurationError('JIT_AUDIENCE internal detail'));
    expect(response.status).toBe(500);
    expect(response.body.error).toBe('configuration_error');
    expect(response.body.error_description).not.toContain('JIT_AUDIENCE');
  });
});
