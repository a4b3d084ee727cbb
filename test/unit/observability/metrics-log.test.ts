/**
 * The Metrics utility's own warnings: the empty-buffer one is DEBUG (normal for status, DR tasks,
 * rejected events), every other one stays WARN on the structured logger.
 */
import { jest } from '@jest/globals';
import { EMPTY_METRICS_WARNING, logger, metrics } from '../../../shared/observability.js';

describe('Metrics warnings on the structured logger', () => {
  afterEach(() => {
    jest.restoreAllMocks();
    metrics.clearMetrics();
    metrics.clearDimensions();
  });

  it('an invocation that emitted no metric logs the empty-buffer notice at DEBUG, not WARN', () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => {});
    const debug = jest.spyOn(logger, 'debug').mockImplementation(() => {});
    metrics.publishStoredMetrics();
    expect(debug).toHaveBeenCalledWith(expect.stringMatching(new RegExp(`^${EMPTY_METRICS_WARNING}`)));
    expect(warn).not.toHaveBeenCalled();
  });

  it('a dropped dimension is still a WARN', () => {
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => {});
    metrics.addDimension('', 'x');
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/dimension/));
  });
});
