// The pg versions of the version matrix (npm aliases in package.json) have
// no types of their own: they are typed as the current pg.
declare module 'pg-8-12' {
  import pg from 'pg'
  export default pg
}
declare module 'pg-8-16' {
  import pg from 'pg'
  export default pg
}
