/**
 * An audience synced into a warehouse is a membership table that many audiences share; this
 * column holds each row's audience name, so no mapped field may take its name.
 */
export const membershipColumn = 'audience';
